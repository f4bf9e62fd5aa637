"""test_tracer.py - tracing programs as they really are: threads, C++,
static binaries (stripped or not), a library loaded at run time with an
allocator of its own, a program with its own allocator that a signal
handler longjmps out of, timer storms and a crash.  Each sample states
what it leaves live; the report must say exactly that (a sample's "note"
lines are where libc keeps memory of its own, of a size it cannot state),
and totals must match valgrind's where valgrind can see the program."""
import os
import re
import signal

from e2e import *
from valgrind import compare


def notes(stdout):
    return [m.group(1) for m in re.finditer(r"^note heap (\S+)$", stdout, re.M)]


def check(label, args, log, kind="heap", status=0, traced=None):
    """Traces args (unless traced is given), compares top's lines of the
    sample's files with what the sample printed."""
    t = traced or trace(args, log)
    ok(t.returncode == status, label + ": exit status %d" % status, t.returncode)
    exp = expectations(t.stdout, kind)
    if not ok(exp, label + ": the sample states its memory", t.stdout + t.stderr):
        return t
    top = memtrack("top", log, "--kind", kind, "-n", "0", "--include", "samples/*")
    allowed = set(notes(t.stdout))
    lines = [l for l in top.stdout.splitlines() if l.split(": size=")[0] not in allowed]
    same(lines, statistic_lines(exp), label + ": the sample's lines, exactly")
    return t


for opt in OPTS:
    check("threads %s" % opt, [sample("threads", opt)], log_path("threads-" + opt))
    check("C++ %s" % opt, [sample("cxx", opt)], log_path("cxx-" + opt))
    check("C++ %s, bad_alloc thrown out of operator new" % opt, [sample("cxx", opt), "throw"],
          log_path("cxxt-" + opt))
    check("dlopen %s" % opt, [sample("dlopen", opt)], log_path("dlopen-" + opt))
    check("signal storm %s" % opt, [sample("signals", opt)], log_path("signals-" + opt))
    log = log_path("crash-" + opt)
    check("crash %s" % opt, [sample("signals", opt), "20000", "crash"], log,
          status=128 + signal.SIGSEGV)
    s = summary(log)
    ok(s["exit_signal"] == signal.SIGSEGV and s["exit_status"] == 128 + signal.SIGSEGV,
       "crash %s: the log records how the program died" % opt, s)
    check("longjmp out of the program's own allocator %s" % opt, [sample("longjmp", opt)],
          log_path("longjmp-" + opt))

for name in ("kinds", "arrays"):
    log = log_path("static-" + name)
    check("static %s" % name, [os.path.join(BUILD, "samples", "static", name)], log)
    mine = summary(log)
    _, theirs = compare([sample(name, "O2")], "dyn-" + name)
    ok((mine["allocs"], mine["frees"], mine["bytes_allocated"]) == theirs,
       "static %s reports what valgrind reports for the dynamic build" % name,
       "static %s, valgrind on dynamic %s" % (
           (mine["allocs"], mine["frees"], mine["bytes_allocated"]), theirs))

stripped = os.path.join(BUILD, "samples", "static", "kinds-stripped")
t = trace([stripped], log_path("stripped"))
ok(t.returncode == 0 and re.search(r"^memtrack: .*kinds-stripped is statically linked and has "
                                   r"no allocator symbols", t.stderr, re.M),
   "a stripped static binary: one clear line, and the program runs", t.stderr)

# Totals equal valgrind's where valgrind sees the program.
for name, args in [("threads", [sample("threads", "O2")]), ("cxx-O0", [sample("cxx", "O0")]),
                   ("cxx-O2", [sample("cxx", "O2")]), ("signals", [sample("signals", "O2")])]:
    mine, theirs = compare(args, name)
    ok(theirs is not None and mine == theirs, "%s: totals as valgrind counts them" % name,
       "memtrack %s, valgrind %s" % (mine, theirs))
done()
