"""pending.py - signals sent to a stopped server, still pending when a
tracer comes: the first syscalls memtrack runs in the server bring each to
its delivery stop.  test_attach and test_tracer_death check that each comes
once, with its siginfo as it was sent, and in the order it would have come
with no tracer at all.

Sent: SIGUSR1 by kill (SI_USER and the sender's pid), SIGUSR2 by sigqueue
(SI_QUEUE, a value), SIGIO by the kernel (SI_KERNEL: a byte on the
server's O_ASYNC stdin, like setitimer's SIGALRM a siginfo no other process
may queue) and SIGRTMIN+1 three times by sigqueue (real-time: all three
queue, in order).  Or SIGUSR1 alone: no other signal hides what becomes
of it."""
import ctypes
import os
import signal
import subprocess
import time

from e2e import *

SERVER = sample("server", "O2")
RT1 = signal.SIGRTMIN + 1


class _sigval(ctypes.Union):
    _fields_ = [("sival_int", ctypes.c_int), ("sival_ptr", ctypes.c_void_p)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.sigqueue.argtypes = [ctypes.c_int, ctypes.c_int, _sigval]

# as the server prints them: signal, si_code, sender ("me": this process)
# and value
KILLED = ["signal %d code 0 from me value 0" % signal.SIGUSR1]
SENT = sorted(KILLED + ["signal %d code -1 from me value 7" % signal.SIGUSR2,
                        "signal %d code 128 from 0 value 0" % signal.SIGIO] +
              ["signal %d code -1 from me value %d" % (RT1, v) for v in (1, 2, 3)])


def pending_run(while_stopped, alone=False):
    """Starts `server 60 0 pending`, stops it, sends it the signals (SIGUSR1
    alone if `alone`), calls while_stopped(pid), continues it and ends it.
    Returns the signals its handlers got, in the order they ran (or what
    went wrong instead)."""
    rfd, wfd = os.pipe()
    srv = subprocess.Popen([SERVER, "60", "0", "pending"], stdin=rfd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    os.close(rfd)
    try:
        if not srv.stdout.readline().startswith("ready"):
            return ["the server did not start"]
        os.kill(srv.pid, signal.SIGSTOP)
        time.sleep(0.05)
        os.kill(srv.pid, signal.SIGUSR1)
        if not alone:
            _libc.sigqueue(srv.pid, signal.SIGUSR2, _sigval(7))
            os.write(wfd, b"x")
            for v in (1, 2, 3):
                _libc.sigqueue(srv.pid, RT1, _sigval(v))
        time.sleep(0.05)
        while_stopped(srv.pid)
        os.kill(srv.pid, signal.SIGCONT)
        time.sleep(0.2)
        srv.send_signal(signal.SIGTERM)
        out, err = srv.communicate(timeout=30)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.communicate()
        # open until the server is gone: closing it sends SIGIO too
        os.close(wfd)
    lines = out.replace(" from %d " % os.getpid(), " from me ").splitlines()
    if srv.returncode != 0 or not lines or not lines[-1].startswith("done") or err:
        return lines + ["exit %s %s" % (srv.returncode, err.strip()[-200:])]
    return lines[:-1]


def untraced():
    """The signals as they come with no tracer; they must be SENT."""
    got = pending_run(lambda pid: None)
    same(sorted(got), SENT, "pending signals, no tracer: each comes once, as it was sent")
    return got


def check(while_stopped, reference, label):
    """The signals, then SIGUSR1 alone, with while_stopped(pid) done while
    they wait: as they come with no tracer (reference, then KILLED)."""
    same(pending_run(while_stopped), reference, label + ": each comes once, as sent, in order")
    same(pending_run(while_stopped, alone=True), KILLED,
         label + ", kill's SIGUSR1 alone: its SI_USER and sender kept")
