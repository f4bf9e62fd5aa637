"""test_leaks.py - memtrack leaks and top --temporary on samples that know
what they leave behind and what they free at once.  Each leak is
tracemalloc's Statistic text followed by its traceback in
Traceback.format()'s layout, both rendered by Python's own tracemalloc;
frames outside the samples (libc's start-up code) differ between machines
and are left out of the comparison."""
from e2e import *


def own_frames(text):
    """Keeps statistic lines and the frames (with their source) in samples/."""
    out, keep = [], False
    for line in text.splitlines():
        if not line.startswith(" "):
            out.append(line)
        elif line.startswith("  File "):
            keep = line.startswith('  File "samples/')
            if keep:
                out.append(line)
        elif keep:
            out.append(line)
    return out


def leak_lines(exp, callers=(), n=None):
    """Statistic, then Traceback.format() of (callers..., site), biggest first.
    A sample's own sites are all allocated from main, so that frame is the
    whole traceback in samples/ unless callers are given."""
    stats = []
    for _, site, size, count in exp:
        filename, lineno = site.rsplit(":", 1)
        frames = tuple(reversed(callers + ((filename, int(lineno)),)))
        stats.append(tracemalloc.Statistic(tracemalloc.Traceback(frames), size, count))
    stats.sort(reverse=True, key=tracemalloc.Statistic._sort_key)
    out = []
    for s in stats[:n]:
        # the statistic names the site (tracemalloc would name the oldest frame)
        out.append(str(s).replace(str(s.traceback), "%s:%s" % (s.traceback[-1].filename,
                                                                s.traceback[-1].lineno), 1))
        out += s.traceback.format()
    return out


for opt in OPTS:
    log = log_path("kinds-" + opt)
    direct = run([sample("kinds", opt)])
    trace([sample("kinds", opt)], log)
    r = memtrack("leaks", log, "--include", "samples/*")
    same(own_frames(r.stdout), leak_lines(expectations(direct.stdout, "heap")),
         "kinds %s: leaks, each with its traceback" % opt)
    ok(r.returncode == 0 and r.stderr == "", "kinds %s: no warning" % opt, r.stderr)
    r = memtrack("leaks", log, "--include", "samples/*", "-n", "2")
    same(own_frames(r.stdout), leak_lines(expectations(direct.stdout, "heap"), n=2),
         "kinds %s: leaks -n 2" % opt)
    # Nothing allocated before the first event leaked: a note, not a warning.
    r = memtrack("leaks", log, "--at", "#0")
    ok(r.returncode == 0 and r.stdout == "" and "no leaks" in r.stderr
       and "warning" not in r.stderr, "kinds %s: leaks --at #0 has none, and says so" % opt,
       r.stderr)

    # The seed's arrays: all ten leak from one traceback (main's loop, then
    # random_array, inlined at -O2).
    log = log_path("arrays-" + opt)
    direct = run([sample("arrays", opt)])
    trace([sample("arrays", opt)], log)
    with open("samples/arrays.c") as f:
        call = [i for i, l in enumerate(f, 1) if "arrays[i] = random_array(" in l][0]
    r = memtrack("leaks", log, "-n", "1")
    same(own_frames(r.stdout),
         leak_lines(expectations(direct.stdout, "heap"), (("samples/arrays.c", call),)),
         "arrays %s: the biggest leak and its traceback" % opt)

    # Temporaries: freed by their thread before it allocated again.
    log = log_path("temporary-" + opt)
    direct = run([sample("temporary", opt)])
    trace([sample("temporary", opt)], log)
    r = memtrack("top", log, "--temporary", "--include", "samples/*")
    same(r.stdout, statistic_lines(expectations(direct.stdout, "temporary")),
         "temporary %s: top --temporary counts them per site" % opt)
    r = memtrack("leaks", log, "--include", "samples/*")
    same(own_frames(r.stdout), leak_lines(expectations(direct.stdout, "heap")),
         "temporary %s: only the last block leaks" % opt)
    s = summary(log)
    ok(s["temporaries"] >= 100 and s["temporary_bytes"] >= 6400,
       "temporary %s: summary counts them" % opt, s)

r = memtrack("top", log, "--temporary", "--kind", "mmap")
ok(r.returncode == 64 and "--temporary counts heap blocks" in r.stderr,
   "top --temporary --kind mmap is refused", r.stderr)
r = memtrack("leaks", log, "--pid", "999999")
ok(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "no process 999999" in r.stderr,
   "leaks --pid of a process not in the log", r.stderr)
r = memtrack("leaks", log, "--by", "lineno")
ok(r.returncode == 64 and "unknown option '--by'" in r.stderr,
   "leaks groups by traceback only", r.stderr)
done()
