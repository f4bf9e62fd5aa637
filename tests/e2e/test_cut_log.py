"""test_cut_log.py - memtrack killed outright (SIGKILL) while the program
still runs leaves a log cut short; that log must still name the lines it
holds once the program's binary is gone, because memtrack writes each
pc's symbol as the run goes (within about two seconds), not at the end.

The sample allocates two blocks at lines it names and waits.  While
memtrack runs, the log is read back with no file descriptor to spare
beyond the log's own, so that the report can only name what the log
holds (the symbolizer cannot open the binary): once it names both lines,
memtrack is killed, then the program, and its binary is deleted."""
import os
import resource
import shutil
import signal
import subprocess
import time

from e2e import *


def log_only(*args):
    """memtrack ARGS, able to open the log and nothing else: every name it
    prints comes from the log."""
    def no_more_files():
        resource.setrlimit(resource.RLIMIT_NOFILE, (4, 4))
    return subprocess.run([MEMTRACK, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, preexec_fn=no_more_files, timeout=60)


def killed(opt):
    label = "cut-%s" % opt
    where = os.path.join(TMP, label)
    os.makedirs(where)
    exe = os.path.join(where, "cut")
    shutil.copy(sample("cut", opt), exe)
    log = log_path(label)
    tracer = subprocess.Popen([MEMTRACK, "run", "-o", log, "--", exe, "60"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = ""
    while not out.endswith("\n") or not out.splitlines()[-1].startswith("ready"):
        line = tracer.stdout.readline()
        if not line:
            break
        out += line
    exp = expectations(out, "heap")
    want = statistic_lines(exp)
    ok(len(exp) == 2 and out.splitlines()[-1].startswith("ready"),
       "%s: the sample allocated and waits" % label, out)
    pid = int(out.split()[-1]) if out.split() else 0

    # what the log alone names, as memtrack writes it
    named, r, t0 = False, None, time.time()
    while time.time() - t0 < 30 and not named:
        time.sleep(0.25)
        r = log_only("top", log)
        named = r.stdout.splitlines() == want
    ok(named, "%s: while memtrack runs, the log itself names the lines (%.1f s)"
       % (label, time.time() - t0), r and (r.stdout + r.stderr))

    tracer.send_signal(signal.SIGKILL)
    tracer.wait()
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, ValueError):
        pass
    shutil.rmtree(where)

    r = memtrack("top", log)
    same(r.stdout.splitlines(), want,
         "%s: memtrack killed, the binary gone: top names the lines" % label)
    ok(r.returncode == 1 and "cut short" in r.stderr and "cannot be named" not in r.stderr,
       "%s: top says the log is cut short, and nothing of unnamed frames" % label,
       "exit %d: %s" % (r.returncode, r.stderr))


for opt in OPTS:
    killed(opt)
done()
