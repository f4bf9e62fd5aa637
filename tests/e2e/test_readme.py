"""test_readme.py - every example of README.md runs as written, from a
fresh copy of the tree after `make demo`, and exits as documented.

The examples are the lines of its fenced blocks that start with "$ " (a
line ending in a backslash goes on on the next one); what follows, up to
the next command or the end of the block, is their documented output.  A
command whose output shows a "memtrack: warning:" line is documented to
exit 1 (done, with warnings), any other 0.  They run in README order, in
one shell, so that a log made by one example is there for the next, in a
copy of the files a clone has (git ls-files) with this build's objects
and samples, where `make demo` has run.  The examples must leave every
file of the tree as it was: a README example writes nowhere it should
not."""
import filecmp
import shutil

import e2e
from e2e import *


def examples(text):
    """[(command, documented output lines)] in README order."""
    out, fence, in_block = [], None, False
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            fence = None if fence is not None else len(line) - len(stripped)
        elif fence is not None and line[fence:].startswith("$ "):
            cmd = line[fence + 2:]
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-1] + " " + lines[i].strip()
            out.append((cmd, []))
        elif fence is not None and out and in_block:
            out[-1][1].append(line[fence:])
        in_block = fence is not None and (in_block or line[fence:].startswith("$ "))
        i += 1
    return out


def documented_status(output):
    return 1 if any(l.startswith("memtrack: warning:") for l in output) else 0


readme = open(os.path.join(ROOT, "README.md")).read()
cases = examples(readme)
ok(len(cases) >= 20, "README.md has its examples (%d commands)" % len(cases),
   "\n".join(c for c, _ in cases))

# A fresh copy: the files a clone has, this build's objects and samples
# (their times kept, so make finds them up to date), then make demo.
copy = os.path.join(TMP, "readme-tree")
files = run(["git", "ls-files", "-co", "--exclude-standard"]).stdout.split("\n")
files = [f for f in files if f and os.path.isfile(f)]
for f in files:
    os.makedirs(os.path.join(copy, os.path.dirname(f)), exist_ok=True)
    shutil.copy2(f, os.path.join(copy, f))
shutil.copytree(BUILD, os.path.join(copy, "build"), symlinks=True,
                ignore=shutil.ignore_patterns("asan", "demo", "tests"))
shutil.copy2(MEMTRACK, os.path.join(copy, "memtrack"))
# a make of its own, not a part of the make test that may be running this
env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
r = subprocess.run(["make", "demo"], cwd=copy, stdin=subprocess.DEVNULL, env=env,
                   capture_output=True, text=True, timeout=600)
ok(r.returncode == 0 and "  CC " not in r.stdout and "LINK" not in r.stdout,
   "make demo in the copy (nothing rebuilt)", r.stdout[-3000:] + r.stderr[-3000:])
pristine = os.path.join(TMP, "readme-pristine")
for f in files:
    os.makedirs(os.path.join(pristine, os.path.dirname(f)), exist_ok=True)
    shutil.copy2(os.path.join(copy, f), os.path.join(pristine, f))

# One shell runs them all, in order; each one's status, stdout and stderr
# are kept apart.
script = ["exec 3>&1"]
for n, (cmd, _) in enumerate(cases):
    script.append("{ %s\n} >.readme.%d.out 2>.readme.%d.err </dev/null" % (cmd, n, n))
    script.append('echo "%d $?" >&3' % n)
r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=copy, stdin=subprocess.DEVNULL,
                   capture_output=True, text=True, timeout=900)
status = dict(tuple(map(int, l.split())) for l in r.stdout.splitlines() if l.strip())
for n, (cmd, output) in enumerate(cases):
    want = documented_status(output)
    got = status.get(n)
    with open(os.path.join(copy, ".readme.%d.out" % n), errors="replace") as f:
        out = f.read()
    with open(os.path.join(copy, ".readme.%d.err" % n), errors="replace") as f:
        err = f.read()
    shown = [l for l in output if l.strip() and l.strip() != "..."]
    ok(got == want and (out or err or not shown),
       "README: $ %s (exit %d%s)" % (cmd, want, ", with output" if shown else ""),
       "exit %s\nstdout: %s\nstderr: %s" % (got, out[-1500:], err[-1500:]))

# Nothing of the tree was written over (docs/ pictures included).
changed = [f for f in files if not filecmp.cmp(os.path.join(copy, f),
                                               os.path.join(pristine, f), shallow=False)]
ok(not changed, "README examples change no file of the tree", changed)
if not e2e._failed:
    # some 100 MB: kept only to look into a failure
    shutil.rmtree(copy)
    shutil.rmtree(pristine)
done()
