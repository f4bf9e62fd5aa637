"""test_attach.py - memtrack attach PID: it traces a running, multi-threaded
process, then leaves it exactly as it found it.  Checked from outside:
no tracer, no executable page of ours left mapped, malloc's code in memory
byte for byte the file's, and the program itself (which verifies every
block it frees) runs on and exits cleanly.  Also: ^C detaches, a process
that ends while attached ends the trace, and PIDs that cannot be traced
get one clear line.

The thread storm, the processes in vfork and posix_spawn, and the timer
storms each have a server of their own: they run side by side, and their
checks are reported in their place."""
import os
import re
import signal
import subprocess
import time

from e2e import *
import pending

SERVER = sample("server", "O2")


def start_server(seconds, threads, *extra, check=ok):
    p = subprocess.Popen([SERVER, str(seconds), str(threads), *extra], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    check(line.startswith("ready"), "the server starts", line)
    return p


def attach_cycles(srv, times, duration, pause, name):
    """Attaches to the server `times` times, for `duration` seconds each,
    `pause` seconds apart, into logs name-0, name-1...  The first failure
    (attach number, what went wrong), or None."""
    for i in range(times):
        time.sleep(pause)
        try:
            r = run([MEMTRACK, "attach", "--duration", duration, "-o",
                     log_path("%s-%d" % (name, i)), str(srv.pid)], timeout=20)
        except subprocess.TimeoutExpired:
            return (i + 1, "memtrack attach hung")
        if r.returncode != 0 or srv.poll() is not None or tracer_of(srv.pid) != 0:
            return (i + 1, r.returncode, r.stderr.strip()[-300:], srv.poll())
    return None


def ends_cleanly(srv, label, term=True, check=ok):
    """Ends the server (SIGTERM, or its own time) and checks it says done."""
    if term:
        srv.send_signal(signal.SIGTERM)
    out, err = srv.communicate(timeout=30)
    check(srv.returncode == 0 and out.startswith("done") and err == "", label,
          "exit %s: %s %s" % (srv.returncode, out, err))


def exec_mappings(pid):
    with open("/proc/%d/maps" % pid) as f:
        return sorted(l.split()[0] + " " + (l.split()[5] if len(l.split()) > 5 else "")
                      for l in f if l.split()[1][2] == "x")


def tracer_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^TracerPid:\s+(\d+)", f.read(), re.M).group(1))


def malloc_code(pid):
    """malloc's first 16 bytes in pid's memory and in libc's file."""
    with open("/proc/%d/maps" % pid) as f:
        for l in f:
            parts = l.split()
            if len(parts) > 5 and parts[1][2] == "x" and "/libc.so" in parts[5]:
                start, offset, path = int(parts[0].split("-")[0], 16), int(parts[2], 16), parts[5]
                break
    nm = run(["nm", "-D", "--defined-only", path]).stdout
    value = int(re.search(r"^([0-9a-f]+) \w malloc(@@\S+)?$", nm, re.M).group(1), 16)
    with open(path, "rb") as f:
        f.seek(value)
        on_disk = f.read(16)
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(start + value - offset)
        in_memory = f.read(16)
    return in_memory, on_disk


# Threads born without pause, always one inside clone: sixty short
# attaches, each seizing, arming, detaching while threads come and go (the
# pause between them lets the storm run untraced a while, which is when
# the races showed: a hang, SIGTRAP, SIGSEGV within some dozen attaches).
def storms(check):
    srv = start_server(120, 0, "storm", check=check)
    bad = attach_cycles(srv, 60, "0.05", 0.1, "storm")
    check(not bad, "60 attaches to a thread storm: each exits 0, lets go of every thread", bad)
    ends_cleanly(srv, "the thread storm goes on unharmed and exits cleanly", check=check)


# The main thread mostly blocked in vfork (its child sleeps), the workers
# allocating: a vfork parent cannot stop until its child is done, and the
# child must not be held meanwhile.  With no workers, the parent is the
# only thread of its memory: the scratch pages wait for it to return (a
# posix_spawn child, caught at its first stop, is no place to unmap them).
# A log with allocations in it (vfork: the workers'; posix_spawn: the
# main thread's, between spawns) shows the hooks worked.
def spawns(check):
    for workers, mode, times in ((2, "vfork", 5), (0, "vfork", 5), (0, "posix_spawn", 25)):
        label = "a process in %s, %d workers" % (mode, workers)
        srv = start_server(60, workers, mode, check=check)
        bad = attach_cycles(srv, times, "0.3" if mode == "vfork" else "0.1", 0.1,
                            "%s%d" % (mode, workers))
        check(not bad, label + ": %d attaches, each exits 0 and lets go of every task" % times,
              bad)
        if workers or mode == "posix_spawn":
            check(not bad and
                  summary(log_path("%s%d-%d" % (mode, workers, times - 1)))["allocs"] > 0,
                  label + ": allocations are in the log")
        with open("/proc/%d/maps" % srv.pid) as f:
            scratch = [l for l in f if l.split()[1] == "r-xp" and len(l.split()) == 5]
        check(not scratch, label + ": no page of memtrack's is left mapped", scratch)
        if mode == "vfork":
            ends_cleanly(srv, label + ": it goes on unharmed and exits cleanly", check=check)
        else:
            # no SIGTERM handler to end it by (see server.c): alive till
            # now, its self-checks passed (a failed spawn aborts it)
            check(srv.poll() is None, label + ": it goes on unharmed", srv.poll())
            srv.kill()
            srv.communicate(timeout=30)


# Two timer storms at 1 kHz while the main thread allocates without pause:
# signals come while a call is half done (a thread in an out-of-line slot,
# at the trampoline, in an injection).  Each must arrive as it was sent
# (the handlers check si_code and the timer's value), and no handler may
# return into a page memtrack has unmapped.
def timers(check):
    srv = start_server(60, 0, "signals", check=check)
    bad = attach_cycles(srv, 40, "0.1", 0.05, "signals")
    check(not bad, "40 attaches to a process under timer storms: each exits 0", bad)
    ends_cleanly(srv, "every signal came as it was sent, and the process exits cleanly",
                 check=check)


# The thread storm on one thread, the timer storms on another, beside the
# checks that follow until they are reported.
storms_reported = beside(storms)
timers_reported = beside(timers)

srv = start_server(20, 3)
before = exec_mappings(srv.pid)
log = log_path("attach")
r = memtrack("attach", "--duration", "1", "-o", log, str(srv.pid))
ok(r.returncode == 0 and re.fullmatch(r"memtrack: \d+ events written to .*\n", r.stderr),
   "attach --duration 1: exits 0 and says where the log went", r.stderr)
ok(tracer_of(srv.pid) == 0, "after detach the process has no tracer")
same(exec_mappings(srv.pid), before, "after detach no executable mapping of ours is left")
mem, disk = malloc_code(srv.pid)
ok(mem == disk, "after detach malloc's code is the file's, byte for byte",
   "%s in memory, %s on disk" % (mem.hex(), disk.hex()))
time.sleep(0.5)
srv.send_signal(signal.SIGTERM)
out, err = srv.communicate(timeout=30)
ok(srv.returncode == 0 and out.startswith("done") and err == "",
   "the server goes on allocating, checks every block, and exits cleanly",
   "exit %d: %s %s" % (srv.returncode, out, err))

s = summary(log)
ok(s["allocs"] > 100 and s["frees"] > 100, "the log holds the allocations made while attached",
   s)
top = memtrack("top", log, "--include", "samples/*", "-n", "0").stdout
ok(re.search(r"^samples/server\.c:\d+: size=", top, re.M), "and attributes them to the "
   "server's line", top)
ok(s.get("preexisting_frees", s.get("unknown_frees", 0)) > 0,
   "frees of blocks allocated before the attach are counted apart, not as errors", s)

# Threads being born and ending all the time while memtrack attaches and
# detaches, five times over: none is left stopped, none hits a trap.
srv = start_server(20, 2, "spawn")
for i in range(5):
    r = memtrack("attach", "--duration", "0.6", "-o", log_path("spawn%d" % i), str(srv.pid))
    ok(r.returncode == 0, "attach %d to a process creating threads: exits 0" % (i + 1), r.stderr)
    ok(tracer_of(srv.pid) == 0, "attach %d: every thread let go" % (i + 1))
    time.sleep(0.2)
ok(summary(log_path("spawn2"))["allocs"] > 0, "the threads' allocations are in the log")
srv.send_signal(signal.SIGTERM)
out, err = srv.communicate(timeout=30)
ok(srv.returncode == 0 and out.startswith("done") and err == "",
   "the thread-spawning server exits cleanly after five attaches", out + err)

# vfork and posix_spawn here, while the storms go on: reported after them
in_spawns = Checks()
spawns(in_spawns.ok)
storms_reported()
in_spawns.report()
timers_reported()

# Signals sent to a stopped process are pending when memtrack attaches; its
# first injected syscalls bring them to their delivery stops.  Each goes in
# then, as it was sent, and its handler runs once the process is continued:
# none lost, none sent again with memtrack's siginfo (SI_TKILL), in the order
# they come with no tracer.
pending.check(lambda pid: ok(
    memtrack("attach", "--duration", "0.3", "-o", log_path("pending"), str(pid)).returncode == 0,
    "attach to a stopped process with signals pending: exits 0"), pending.untraced(),
    "pending signals, attached and detached while they wait")

# A stopped process (SIGSTOP) stays stopped while memtrack is attached, and
# goes on when continued after.
srv = start_server(60, 2)
os.kill(srv.pid, signal.SIGSTOP)
time.sleep(0.1)
with open("/proc/%d/stat" % srv.pid) as f:
    cpu = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
r = memtrack("attach", "--duration", "0.5", "-o", log_path("stopped"), str(srv.pid))
with open("/proc/%d/stat" % srv.pid) as f:
    fields = f.read().rsplit(")", 1)[1].split()
ok(r.returncode == 0 and fields[0] == "T" and sum(int(x) for x in fields[11:13]) == cpu
   and summary(log_path("stopped"))["allocs"] == 0,
   "a stopped process: stays stopped, runs no code, allocates nothing while attached",
   (r.returncode, r.stderr, fields[0], fields[11:13], cpu))
os.kill(srv.pid, signal.SIGCONT)
time.sleep(0.2)
ends_cleanly(srv, "continued, the stopped process exits cleanly")

# ^C detaches too, and the process goes on.
srv = start_server(20, 2)
p = subprocess.Popen([MEMTRACK, "attach", "-o", log_path("attach-int"), str(srv.pid)],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(1)
p.send_signal(signal.SIGINT)
out, err = p.communicate(timeout=30)
ok(p.returncode == 0, "attach: ^C detaches and exits 0", err)
ok(tracer_of(srv.pid) == 0, "^C: the process has no tracer")
srv.send_signal(signal.SIGTERM)
out, err = srv.communicate(timeout=30)
ok(srv.returncode == 0 and out.startswith("done"), "^C: the server exits cleanly", out + err)

# A process that ends while attached ends the trace.
srv = start_server(2, 2)
r = memtrack("attach", "-o", log_path("attach-end"), str(srv.pid))
srv.communicate(timeout=30)
ok(r.returncode == 0 and srv.returncode == 0, "a process that ends while attached: both exit 0",
   r.stderr)
ok(summary(log_path("attach-end"))["exit_status"] == 0, "and the log records its exit")

# PIDs that cannot be traced.
for bad in ("abc", "0", "-5"):
    r = memtrack("attach", bad)
    ok(r.returncode == 64 and len(r.stderr.splitlines()) == 1, "attach %s: a usage error" % bad,
       r.stderr)
r = memtrack("attach", "4194000")
ok(r.returncode == 2 and re.fullmatch(r"memtrack: no process 4194000\n", r.stderr),
   "attach: no such process", r.stderr)
other = subprocess.Popen(["strace", "-o", "/dev/null", "sleep", "30"])
time.sleep(0.5)
kids = run(["pgrep", "-P", str(other.pid)]).stdout.split()
r = memtrack("attach", kids[0]) if kids else None
ok(r and r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "cannot trace" in r.stderr,
   "attach: a process another tracer holds", r and r.stderr)
other.kill()
other.wait()
done()
