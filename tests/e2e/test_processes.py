"""test_processes.py - a process tree in one log (memtrack run
--follow-forks): the forks sample's parent, a child that frees a block it
inherited and keeps one of its own, and a child that execs.  Each process
says what it holds when it ends; top, leaks and replay take --pid, and
summary lists each process with its own counts.  Then a shell that execs
itself again and again, taking signals in between, before it becomes
python."""
import csv
import io
import json

from e2e import *


def by_pid(stdout):
    """{pid: [(kind, site, size, count)]} from 'expect pid=N KIND SITE SIZE COUNT'."""
    out = {}
    for m in re.finditer(r"^expect pid=(\d+) (\w+) (\S+) (\d+) (\d+)$", stdout, re.M):
        out.setdefault(int(m.group(1)), []).append(
            (m.group(2), m.group(3), int(m.group(4)), int(m.group(5))))
    return out


for opt in OPTS:
    label = "forks " + opt
    log = log_path("forks-" + opt)
    t = trace([sample("forks", opt)], log, extra=["--follow-forks"])
    if not ok(t.returncode == 0, label + ": traced with --follow-forks", t.stderr):
        continue
    want = by_pid(t.stdout)
    s = summary(log)
    procs = {p["pid"]: p for p in s["processes"]}
    root = s["pid"]
    ok(sorted(procs) == sorted(want) and root in procs, label + ": one entry per process",
       s["processes"])
    ok(s["unknown_frees"] == 0, label + ": a child's frees of inherited blocks are frees",
       s["unknown_frees"])
    for pid, exp in want.items():
        r = memtrack("top", log, "--pid", str(pid), "--include", "samples/*", "-n", "0")
        same(r.stdout, statistic_lines(exp), "%s: top --pid (the %s)" %
             (label, "parent" if pid == root else "child %d" % len(exp)))
        r = memtrack("replay", log, "--pid", str(pid))
        pids = set(re.findall(r"^#\d+ \+\S+ (\d+)/", r.stdout, re.M))
        ok(pids == {str(pid)}, "%s: replay --pid %d shows that process only" % (label, pid),
           pids)
    children = [p for p in procs.values() if p["pid"] != root]
    forked = [p for p in children if len(want[p["pid"]]) == 2]
    execd = [p for p in children if len(want[p["pid"]]) == 1]
    ok(len(forked) == 1 and forked[0]["allocs"] == 1 and forked[0]["frees"] == 1
       and forked[0]["parent"] == root and forked[0]["command"] == procs[root]["command"],
       label + ": the forked child: its own counts, its parent's command", forked)
    ok(len(execd) == 1 and execd[0]["command"].endswith("/forks"),
       label + ": the exec'd child runs the program it exec'd", execd)
    # its leaks: the inherited block and its own
    r = memtrack("leaks", log, "--pid", str(forked[0]["pid"]), "--include", "samples/*")
    stats = [l for l in r.stdout.splitlines() if not l.startswith(" ")]
    same(stats, statistic_lines(want[forked[0]["pid"]]), label + ": leaks --pid of the child")
    # every report takes --pid
    child = forked[0]["pid"]
    cs = json.loads(memtrack("summary", log, "--json", "--pid", str(child)).stdout)
    ok(cs["allocs"] == 1 and cs["frees"] == 1 and cs["leaked_count"] >= 2
       and [p["pid"] for p in cs["processes"]] == [child],
       label + ": summary --pid of the child", cs)
    r = memtrack("diff", log, "--pid", str(child), "--from", "#0", "--include", "samples/*",
                 "-n", "0")
    same([l.split(": size=")[0] for l in r.stdout.splitlines()],
         [l.split(": size=")[0] for l in statistic_lines(want[child])],
         label + ": diff --pid of the child, from the start")
    r = memtrack("export", log, "--pid", str(child), "--format", "csv", "--include", "samples/*")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    ok(sorted((row["site"], int(row["live_bytes"])) for row in rows if int(row["live_bytes"]))
       == sorted((site, size) for _, site, size, _ in want[child]),
       label + ": export --pid of the child", r.stdout)
    rows = list(csv.DictReader(io.StringIO(memtrack("timeline", log, "--pid", str(child)).stdout)))
    ok(max(int(row["heap_bytes"]) for row in rows) >= 1500 and rows[-1]["heap_bytes"] == "0",
       label + ": timeline --pid of the child: its memory leaves the chart when it exits",
       rows[-3:])
    # without --pid, every process's memory
    r = memtrack("top", log, "--include", "samples/*", "-n", "0")
    everything = [e for exp in want.values() for e in exp]
    merged = {}
    for _, site, size, count in everything:
        v = merged.setdefault(site, [0, 0])
        v[0] += size
        v[1] += count
    same(r.stdout, statistic_lines([("heap", k, v[0], v[1]) for k, v in merged.items()]),
         label + ": top of all processes")
    # the peak is of the memory in use at once: the parent's two blocks and
    # their copies in the first child; that child's leaks are gone when the
    # exec'd child allocates (7500 bytes would count them)
    parent = want[root][0][1]
    other = parent.rsplit(":", 1)[0] + ":%d" % (int(parent.rsplit(":", 1)[1]) + 1)
    ok(s["peak_bytes"] == 6000, label + ": summary's peak: the most in use at once",
       s["peak_bytes"])
    r = memtrack("top", log, "--at", "peak", "--include", "samples/*", "-n", "0")
    same(r.stdout, statistic_lines([("heap", parent, 2000, 2), ("heap", other, 4000, 2)]),
         label + ": top --at peak: both processes' blocks, at the fork")
    # once the first child exited, its blocks are no longer in use: a
    # snapshot then holds the parent's only (and the end, every leak)
    gone = re.search(r"^#(\d+) \S+ %d/\d+ proc_exit" % forked[0]["pid"],
                     memtrack("replay", log).stdout, re.M)
    r = memtrack("top", log, "--at", "#" + gone.group(1), "--include", "samples/*", "-n", "0")
    same(r.stdout, statistic_lines([("heap", parent, 1000, 1), ("heap", other, 2000, 1)]),
         label + ": top after a child exited: its blocks are gone")

# A shell that runs commands (their SIGCHLD coming in) and execs itself
# again and again, then python, as a version manager's wrapper does: each
# new image gets a new recorder area, which may be allocated where the
# last one was; a thread's slot remembered in the old area must not be
# taken for one in the new (the tracer died of SIGSEGV 6 runs in 8).
chain = os.path.join(TMP, "chain.sh")
with open(chain, "w") as f:
    f.write("""n=${1:-0}
x=$(echo a); y=$(echo b)
[ "$n" -lt 3 ] && exec /bin/bash "$0" $((n+1))
exec %s -c "import os; os.system('true'); print('after', $n, 'execs')"
""" % sys.executable)
python = os.path.realpath(sys.executable)
for i in range(5):
    log = log_path("chain-%d" % i)
    t = trace(["/bin/bash", chain], log)
    if not ok(t.returncode == 0 and t.stdout == "after 3 execs\n",
              "exec chain, run %d: traced to its end" % (i + 1), (t.returncode, t.stdout, t.stderr)):
        break
    procs = summary(log)["processes"]
    ok(len(procs) == 1 and procs[0]["command"] == python and procs[0]["exit_status"] == 0,
       "exec chain, run %d: one process, python at its end" % (i + 1), procs)
done()
