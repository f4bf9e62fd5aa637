"""e2e.py - what the end-to-end tests share: paths, running memtrack and
the samples, rendering expectations with Python's own tracemalloc, and
reporting results as TAP (tests/run counts them).

A sample prints what it allocated ("expect heap FILE:LINE BYTES COUNT");
the expected report line is then tracemalloc.Statistic's own text for it,
so the ground truth is tracemalloc itself, not a second copy of our
formatter.
"""
import difflib
import os
import re
import subprocess
import sys
import tempfile
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
MEMTRACK = os.path.join(ROOT, "memtrack")
OPTS = ("O0", "O2")

os.chdir(ROOT)
_count = 0
_failed = 0
TMP = tempfile.mkdtemp(prefix="memtrack-e2e-")


def sample(name, opt="O0"):
    return os.path.join(BUILD, "samples", opt, name)


def ok(cond, name, detail=""):
    """Reports one check; detail is shown when it failed."""
    global _count, _failed
    _count += 1
    if cond:
        print("ok %d - %s" % (_count, name))
    else:
        _failed += 1
        print("not ok %d - %s" % (_count, name))
        for line in str(detail).rstrip("\n").split("\n"):
            print("#   " + line)
    return cond


def same(actual, expected, name):
    """Compares two texts (or line lists); a unified diff on mismatch."""
    if isinstance(actual, str):
        actual = actual.splitlines()
    if isinstance(expected, str):
        expected = expected.splitlines()
    diff = "\n".join(difflib.unified_diff(expected, actual, "expected", "actual", lineterm=""))
    return ok(actual == expected, name, diff)


def done():
    sys.exit(1 if _failed else 0)


class Checks:
    """Checks made away from the file's order (on another thread), kept to
    be reported later with ok(), in the order they were made."""

    def __init__(self):
        self.made = []

    def ok(self, cond, name, detail=""):
        self.made.append((cond, name, detail))
        return cond

    def report(self):
        for cond, name, detail in self.made:
            ok(cond, name, detail)
        self.made = []


def beside(work):
    """Starts work(check) on a thread of its own, check being its ok();
    returns a function that waits for it and reports its checks (then
    raises what work raised, if it did).  Work that does not share a
    process or a file with the rest runs beside it, and its TAP lines still
    come where the caller reports them."""
    import threading
    checks, raised = Checks(), []

    def body():
        try:
            work(checks.ok)
        except BaseException as e:  # re-raised by report()
            raised.append(e)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()

    def report():
        thread.join()
        checks.report()
        if raised:
            raise raised[0]
    return report


def run(args, env=None, stdin=subprocess.DEVNULL, timeout=300):
    return subprocess.run(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env, timeout=timeout)


def log_path(name):
    return os.path.join(TMP, name + ".log")


def trace(args, log, env=None, extra=()):
    """memtrack run -o LOG [extra] -- args; returns the CompletedProcess."""
    return run([MEMTRACK, "run", "-o", log, *extra, "--", *args], env=env)


def memtrack(*args, env=None):
    return run([MEMTRACK, *args], env=env)


def expectations(stdout, kind=None):
    """The sample's own account: [(kind, site, bytes, count)]."""
    out = []
    for m in re.finditer(r"^expect (\w+) (\S+) (\d+) (\d+)$", stdout, re.M):
        if kind is None or m.group(1) == kind:
            out.append((m.group(1), m.group(2), int(m.group(3)), int(m.group(4))))
    return out


def statistic(site, size, count):
    """str(tracemalloc.Statistic) for a one-frame traceback at site."""
    filename, lineno = site.rsplit(":", 1)
    tb = tracemalloc.Traceback(((filename, int(lineno)),))
    return str(tracemalloc.Statistic(tb, size, count))


def statistic_lines(exp):
    """Expected statistic lines, in tracemalloc's order (biggest first)."""
    stats = []
    for _, site, size, count in exp:
        filename, lineno = site.rsplit(":", 1)
        tb = tracemalloc.Traceback(((filename, int(lineno)),))
        stats.append(tracemalloc.Statistic(tb, size, count))
    stats.sort(reverse=True, key=tracemalloc.Statistic._sort_key)
    return [str(s) for s in stats]


def summary(log):
    import json
    r = memtrack("summary", log, "--json")
    if r.returncode != 0:
        raise RuntimeError("summary failed: " + r.stderr)
    return json.loads(r.stdout)
