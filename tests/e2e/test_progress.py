"""test_progress.py - the status line: on a terminal (a pseudo-terminal
from Python's pty module as memtrack's stderr), run and attach redraw one
line a few times a second (elapsed time, events, events per second, the
log's size) and erase it before they write anything else; a report over a
log says how much of it it has read, and erases that before its output.
Without a terminal stderr carries nothing new, and MEMTRACK_PROGRESS=0
turns the line off on a terminal too."""
import os
import pty
import select
import signal
import subprocess

from e2e import *

ERASE = "\r\x1b[K"
STATUS = re.compile(r"\rmemtrack: (\d+\.\d) s, (\d+) events, (\d+) events/s, log "
                    r"(\d+(\.\d)? (B|KiB|MiB|GiB))\x1b\[K")
READING = re.compile(r"\rmemtrack: reading (\S+): (\d+)% \((\S+ \S+) of (\S+ \S+)\)\x1b\[K")


def on_terminal(args, env=None):
    """Runs args with stderr on a pseudo-terminal; (status, stdout, what the
    terminal received)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                         env=env)
    os.close(slave)
    got = b""
    out = []
    while True:
        ready, _, _ = select.select([master, p.stdout], [], [], 1)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the last writer closed it
                data = b""
            got += data
            if not data and p.poll() is not None:
                break
        if p.stdout in ready:
            out.append(p.stdout.read1(65536))
        if not ready and p.poll() is not None:
            break
    out.append(p.stdout.read())
    p.wait()
    os.close(master)
    # the terminal turns "\n" into "\r\n"
    return p.returncode, b"".join(out).decode(), got.decode(errors="replace").replace("\r\n", "\n")


def env_with(**kw):
    env = dict(os.environ)
    env.pop("MEMTRACK_PROGRESS", None)
    env.update(kw)
    return env


def check_run_lines(label, err, log):
    """The status lines, then the line erased, then the usual last line."""
    lines = STATUS.findall(err)
    ok(len(lines) >= 2, label + ": the status line is drawn, and redrawn", repr(err[:400]))
    events = [int(l[1]) for l in lines]
    times = [float(l[0]) for l in lines]
    ok(events == sorted(events) and times == sorted(times) and times[0] > 0,
       label + ": time and events only grow", lines)
    tail = err[err.rfind(ERASE) + len(ERASE):] if ERASE in err else ""
    m = re.fullmatch(r"memtrack: (\d+) events written to (\S+)\n", tail)
    ok(m is not None and events and m.group(2) == log and int(m.group(1)) >= events[-1],
       label + ": erased before the last line, which is as without a terminal", repr(tail))


# run: a program that takes a second, RSS samples as its events
log = log_path("sleep")
status, out, err = on_terminal([MEMTRACK, "run", "-o", log, "--", "sleep", "1"], env_with())
ok(status == 0, "run on a terminal: exit status 0", err)
check_run_lines("run", err, log)
r = run([MEMTRACK, "run", "-o", log, "--", "sleep", "1"], env=env_with())
ok(re.fullmatch(r"memtrack: \d+ events written to %s\n" % re.escape(log), r.stderr),
   "run without a terminal: stderr carries nothing new", repr(r.stderr))
status, out, err = on_terminal([MEMTRACK, "run", "-o", log, "--", "sleep", "1"],
                               env_with(MEMTRACK_PROGRESS="0"))
ok(status == 0 and not STATUS.search(err) and "\x1b" not in err,
   "MEMTRACK_PROGRESS=0: no status line on a terminal", repr(err))

# attach: the same line while the process is traced
srv = subprocess.Popen([sample("server", "O2"), "20", "1"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
ok(srv.stdout.readline().startswith("ready"), "the server starts")
log = log_path("attached")
status, out, err = on_terminal([MEMTRACK, "attach", "--duration", "1", "-o", log,
                                str(srv.pid)], env_with())
ok(status == 0, "attach on a terminal: exit status 0", err)
check_run_lines("attach", err, log)
srv.send_signal(signal.SIGTERM)
srv.communicate(timeout=30)

# a report: how much of the log is read, erased before the output
big = log_path("churn")
t = trace([os.path.join(BUILD, "bench", "churn"), "300000", "keep"], big)
ok(t.returncode == 0, "a log of 300000 blocks", t.stderr)
plain = run([MEMTRACK, "top", big, "-n", "3"], env=env_with())
ok(plain.returncode == 0 and plain.stderr == "", "top without a terminal: nothing on stderr",
   plain.stderr)
for cmd in (["top", big, "-n", "3"], ["summary", big], ["timeline", big]):
    label = "memtrack " + cmd[0]
    status, out, err = on_terminal([MEMTRACK, *cmd], env_with(MEMTRACK_PROGRESS="1"))
    lines = READING.findall(err)
    percents = [int(l[1]) for l in lines]
    ok(status == 0 and lines and all(l[0] == big for l in lines) and
       percents == sorted(percents) and percents[-1] <= 100,
       label + ": says how much of the log it has read", repr(err[:300]))
    ok(err.endswith(ERASE) and err.replace(ERASE, "\n").strip("\n").count("\n") ==
       len(lines) - 1, label + ": and erases it, leaving nothing else", repr(err[-200:]))
    again = run([MEMTRACK, *cmd], env=env_with())
    ok(out == again.stdout, label + ": its output is the same as without a terminal")
status, out, err = on_terminal([MEMTRACK, "top", log], env_with())
ok(status == 0 and not READING.search(err),
   "a report that reads for less than a second shows no line", repr(err[:200]))
done()
