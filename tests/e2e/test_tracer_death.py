"""test_tracer_death.py - memtrack attach (the fast engine) killed outright,
SIGKILL, at a moment of its choosing: the program it was attached to must
run on unharmed.  The recorder's jumps stay in its code, but with the
tracer gone the recorder only passes calls on; nothing of ours may trap.

Fifty servers (each verifies every block it frees), in five batches run
side by side, half of them under two timer storms whose handlers check
every siginfo; each is attached to, memtrack is killed 50 to 450 ms in,
then the server must keep allocating for a while with no tracer and exit
cleanly on SIGTERM.  The ptrace engine cannot pass this (its int3s stay
behind): the last check shows the test can fail."""
import random
import re
import signal
import subprocess
import time

from e2e import *
import pending

SERVER = sample("server", "O2")
rng = random.Random(1)


def tracer_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^TracerPid:\s+(\d+)", f.read(), re.M).group(1))


def start(mode):
    p = subprocess.Popen([SERVER, "60", "2"] + ([mode] if mode else []), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    return p if line.startswith("ready") else None


def kill_while_attached(engine, modes, label):
    """One batch: a server per mode, attached, memtrack killed; what went
    wrong with each, or None."""
    servers = [start(m) for m in modes]
    if None in servers:
        return ["a server did not start"]
    tracers = [subprocess.Popen([MEMTRACK, "attach", "--engine", engine, "-o",
                                 log_path("%s-%d" % (label, i)), str(s.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for i, s in enumerate(servers)]
    for t in tracers:
        time.sleep(rng.uniform(0.05, 0.45) / len(tracers))
    time.sleep(0.2)
    for t in tracers:
        t.send_signal(signal.SIGKILL)
        t.wait()
    # without a tracer now: they allocate, free and check for a while
    time.sleep(0.4)
    bad = []
    for s, m in zip(servers, modes):
        alive = s.poll() is None
        if alive and tracer_of(s.pid) != 0:
            bad.append("%s: still traced" % (m or "plain"))
        if alive:
            s.send_signal(signal.SIGTERM)
        try:
            out, err = s.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            s.kill()
            out, err = s.communicate()
        if s.returncode != 0 or not out.startswith("done") or err:
            bad.append("%s: exit %s %s %s" % (m or "plain", s.returncode, out.strip()[-80:],
                                              err.strip()[-80:]))
    return bad


harmed = []
for batch in range(5):
    harmed += kill_while_attached("fast", ["", "signals"] * 5, "death-%d" % batch)
ok(not harmed, "50 servers, memtrack killed while attached: %d harmed" % len(harmed),
   "\n".join(harmed[:10]))

# Signals pending in a stopped server when memtrack attaches go in as
# memtrack finds them: killed once attached, it holds none back and owes
# none a siginfo.  (Killed at its first syscalls in the server, a signal
# it had taken off its delivery stop was lost, and one it had sent again
# came with its own SI_TKILL.)


def attach_then_kill(pid):
    t = subprocess.Popen([MEMTRACK, "attach", "--engine", "fast", "-o", log_path("pending"),
                          str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # attached once its recorder is mapped; then a while for the rest
    for _ in range(200):
        with open("/proc/%d/maps" % pid) as f:
            if "memfd:memtrack" in f.read():
                break
        time.sleep(0.05)
    time.sleep(0.5)
    t.send_signal(signal.SIGKILL)
    t.wait()
    ok(tracer_of(pid) == 0, "memtrack killed while a stopped server's signals wait: no tracer left")


pending.check(attach_then_kill, pending.untraced(), "pending signals, memtrack killed while attached")

# the test can fail: the ptrace engine's int3s stay behind it
harmed = kill_while_attached("ptrace", [""] * 3, "death-ptrace")
ok(len(harmed) == 3, "the ptrace engine, killed while attached, leaves its traps behind",
   "harmed %d of 3: %s" % (len(harmed), harmed))
done()
