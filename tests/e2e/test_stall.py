"""test_stall.py - a thread of the fast engine held up in the middle of a
record for longer than the tracer waits for one (2 s: a thread preempted
on a loaded machine, or stopped there), that then finishes it: the record
is logged late, not lost, and a thread that waits for the tracer's answer
to it (a stack walk it asked for) gets its answer.  Before, the tracer
stepped over the record for good and the thread waited forever (a shell
under memtrack --follow-forks hung so on a busy machine).

MEMTRACK_TEST_STALL=N:MS makes the first N walk requests of each process
stall MS ms half-written; MEMTRACK_UNWIND_CHECK=1 makes every allocation
ask for a walk (the tracer's, to compare with the recorder's)."""
import subprocess

from e2e import *

env = dict(os.environ, MEMTRACK_UNWIND_CHECK="1", MEMTRACK_TEST_STALL="2:2500",
           MEMTRACK_ENGINE="fast")
for opt in OPTS:
    label = "arrays %s, two walks stalled 2.5 s" % opt
    log = log_path("stall-" + opt)
    try:
        t = run([MEMTRACK, "run", "-o", log, "--", sample("arrays", opt)], env=env, timeout=60)
    except subprocess.TimeoutExpired:
        ok(False, label + ": traced to its end", "memtrack still ran after 60 s")
        continue
    if not ok(t.returncode == 0, label + ": traced to its end", t.stderr):
        continue
    ok("lost" not in t.stderr and "walked differently" not in t.stderr,
       label + ": nothing lost, the walks compared", t.stderr)
    want = expectations(t.stdout)
    r = memtrack("top", log, "--include", "samples/*", "-n", "0")
    same(r.stdout, statistic_lines(want), label + ": top as the sample says")
    s = summary(log)
    ok(s["allocs"] == sum(c for _, _, _, c in want) and s["unknown_frees"] == 0,
       label + ": every call recorded", s)
done()
