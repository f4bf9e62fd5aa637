"""test_sanitizers.py - memtrack built with AddressSanitizer and UBSan
(build/asan, `make sanitize`; make test builds it): its unit tests, a few
samples traced by it and reported, and a fuzz pass of the log reader over
real logs.  Any sanitizer report (an invalid access, undefined behaviour, a
leak) fails the check it appears in.

- Traces: the sanitized tracer's log must hold what the normal tracer's
  does (allocs, frees, bytes), and every report the sanitized analyzer
  makes of it must be byte for byte the normal analyzer's.
- Fuzzing: build/asan/fuzz_log (libFuzzer; tests/fuzz/fuzz_log.c) starts
  from real logs, each also with its chunks stored raw (tests/fuzz/
  log_unpack.c) so that mutations reach the records, runs a fixed number
  of inputs from a fixed seed, and must end without a crash, a leak or a
  report.  FUZZ_RUNS sets the number (default 5000, about a minute here).
  It starts as soon as the plain tracer's logs exist and runs beside the
  other checks, on the other core."""
import atexit
import glob
import json
import shutil
import signal
import subprocess
import time

from e2e import *

SAN = os.path.join(BUILD, "asan")
SAN_MEMTRACK = os.path.join(SAN, "memtrack")
REPORT = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98")
FUZZ_RUNS = int(os.environ.get("FUZZ_RUNS", "5000"))


def sanitizer_report(text):
    """The first lines of a sanitizer report in text, or ''."""
    m = REPORT.search(text)
    return text[max(0, m.start() - 200):m.start() + 3000] if m else ""


missing = [p for p in [SAN_MEMTRACK, os.path.join(SAN, "fuzz_log"),
                       os.path.join(SAN, "log_unpack")] if not os.path.exists(p)]
if not ok(not missing, "the sanitized build exists (make sanitize)", missing):
    done()

# Samples traced by the sanitized tracer and reported by both analyzers.
cases = [
    ("kinds", [sample("kinds", "O0")], []),
    ("cxx", [sample("cxx", "O2")], []),
    ("mappings", [sample("mappings", "O0")], []),
    ("marks", [sample("marks", "O2")], ["--mark", "checkpoint"]),
    ("forks", [sample("forks", "O0")], ["--follow-forks"]),
    ("dlopen", [sample("dlopen", "O0")], ["--depth", "3"]),
]


def reports(log, has_marks):
    svg = log + ".svg"
    out = [["top", log], ["top", log, "--by", "traceback", "--cumulative", "-n", "5"],
           ["top", log, "--at", "peak", "--kind", "all", "--by", "function"],
           ["top", log, "--temporary"], ["leaks", log], ["summary", log],
           ["summary", log, "--json"], ["replay", log], ["timeline", log],
           ["timeline", log, "--svg", svg], ["diff", log, log],
           ["export", log, "--format", "folded"], ["export", log, "--format", "massif"],
           ["export", log, "--format", "csv"],
           ["export", log, "--format", "json", "--by", "traceback"], ["report", log, "-o", "-"]]
    if has_marks:
        out.append(["diff", log, "--from", "mark:1", "--to", "mark:3"])
    return out, svg


# The plain tracer's logs first: they seed the fuzz pass, which then runs
# beside everything else.
plain = [trace(args, log_path("plain-" + name), extra=extra) for name, args, extra in cases]
logs = [log_path("plain-" + name) for name, _, _ in cases]
corpus = os.path.join(TMP, "fuzz-corpus")
os.makedirs(corpus)
unpacked = True
for i, log in enumerate(logs):
    shutil.copy(log, os.path.join(corpus, "%d.log" % i))
    u = run([os.path.join(SAN, "log_unpack"), log, os.path.join(corpus, "%d.raw" % i)], env=ENV)
    unpacked = unpacked and u.returncode == 0 and not u.stderr
ok(unpacked and len(os.listdir(corpus)) == 2 * len(logs),
   "fuzz seeds: %d real logs, each also with its chunks stored raw" % len(logs), os.listdir(corpus))
artifacts = os.path.join(TMP, "fuzz-crash-")
fuzz_err = open(os.path.join(TMP, "fuzz.err"), "w+")
fuzz = subprocess.Popen([os.path.join(SAN, "fuzz_log"), "-seed=1", "-runs=%d" % FUZZ_RUNS,
                         "-max_len=65536", "-timeout=20", "-rss_limit_mb=4096",
                         "-print_final_stats=1", "-artifact_prefix=" + artifacts, corpus],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=fuzz_err,
                        env=ENV)
atexit.register(lambda: fuzz.poll() is None and fuzz.kill())

# Unit tests, sanitized.
for binary in sorted(glob.glob(os.path.join(SAN, "tests", "test_*"))):
    name = os.path.basename(binary)
    r = run([binary], env=dict(ENV, CMOCKA_MESSAGE_OUTPUT="TAP"))
    out = r.stdout + r.stderr
    ok(r.returncode == 0 and "not ok" not in out and not sanitizer_report(out),
       "%s under ASan+UBSan" % name,
       sanitizer_report(out) or "\n".join(l for l in out.splitlines() if "not ok" in l)
       or "exit status %d" % r.returncode)

for (name, args, extra), p in zip(cases, plain):
    label = "%s traced under ASan+UBSan" % name
    mine = log_path("san-" + name)
    theirs = log_path("plain-" + name)
    t = run([SAN_MEMTRACK, "run", "-o", mine, *extra, "--", *args], env=ENV)
    if not ok(t.returncode == p.returncode == 0 and not sanitizer_report(t.stderr), label,
              sanitizer_report(t.stderr) or t.stderr[-2000:]):
        continue
    a, b = summary(mine), summary(theirs)
    keys = ("allocs", "frees", "bytes_allocated", "mmap_calls", "munmap_calls", "mark_hits")
    ok(all(a.get(k) == b.get(k) for k in keys), label + ": the same totals as the plain tracer",
       {k: (a.get(k), b.get(k)) for k in keys})
    cmds, svg = reports(mine, "--mark" in extra)
    bad = []
    for cmd in cmds:
        s = run([SAN_MEMTRACK, *cmd], env=ENV)
        s_svg = open(svg).read() if cmd[-2:] == ["--svg", svg] else None
        n = memtrack(*cmd)
        n_svg = open(svg).read() if s_svg is not None else None
        if sanitizer_report(s.stderr):
            bad.append("%s: %s" % (" ".join(cmd[:1] + cmd[2:]), sanitizer_report(s.stderr)))
        elif (s.returncode, s.stdout, s.stderr, s_svg) != (n.returncode, n.stdout, n.stderr,
                                                          n_svg):
            bad.append("%s: differs from the plain build's (exit %d vs %d)" %
                       (" ".join(cmd[:1] + cmd[2:]), s.returncode, n.returncode))
    ok(not bad, "%s: %d reports under ASan+UBSan, each as the plain build prints it" %
       (name, len(cmds)), "\n".join(bad))

# attach, sanitized: a clean detach and a log the plain analyzer reads.
server = subprocess.Popen([sample("server", "O2"), "20", "2"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
time.sleep(0.5)
log = log_path("san-attach")
r = run([SAN_MEMTRACK, "attach", "-o", log, "--duration", "1", str(server.pid)], env=ENV)
alive = server.poll() is None
server.kill()
server.wait()
allocs = summary(log)["allocs"] if r.returncode == 0 else 0
ok(r.returncode == 0 and alive and not sanitizer_report(r.stderr) and allocs > 0,
   "attach under ASan+UBSan: detaches, the server lives on, the log has its calls",
   sanitizer_report(r.stderr) or "exit %d, %d allocs\n%s" % (r.returncode, allocs,
                                                           r.stderr[-2000:]))

# The fuzz pass, started above.
try:
    fuzz.wait(timeout=900)
except subprocess.TimeoutExpired:
    fuzz.kill()
    fuzz.wait()
fuzz_err.seek(0)
f_err = fuzz_err.read()
stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", f_err, re.M))
ok(fuzz.returncode == 0 and int(stats.get("number_of_executed_units", 0)) >= FUZZ_RUNS
   and not sanitizer_report(f_err),
   "fuzz_log: %d inputs from seed 1 over the reader and every report, no crash, leak or "
   "report" % FUZZ_RUNS,
   (sanitizer_report(f_err) or f_err[-3000:]) + "\ninputs kept: %s*" % artifacts)

done()
