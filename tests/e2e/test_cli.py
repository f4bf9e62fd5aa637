"""test_cli.py - the command line's contract: exit statuses, and bad input
of every kind answered by one clear line on stderr and a non-zero exit,
never a crash, never a silent empty result, nothing written over."""
import os
import shutil
import signal
import subprocess
import time

from e2e import *


def one_line(r, status, pattern, name):
    lines = r.stderr.splitlines()
    good = r.returncode == status and len(lines) == 1 and re.search(pattern, lines[0])
    ok(good, name, "exit %d, stderr %r" % (r.returncode, r.stderr))


# run: the target's status, 128+signal, 127/126 for commands that cannot run.
log = log_path("cli")
r = trace(["sh", "-c", "exit 3"], log)
ok(r.returncode == 3, "run exits with the command's status", r.returncode)
ok(re.fullmatch(r"memtrack: \d+ events written to .*cli\.log\n", r.stderr),
   "run says where the log went, on one line", r.stderr)
r = trace(["sh", "-c", "kill -SEGV $$"], log)
ok(r.returncode == 128 + signal.SIGSEGV, "run exits 128+signal when a signal killed it",
   r.returncode)
ok(summary(log)["exit_signal"] == signal.SIGSEGV, "summary records the signal")

# Signals reach the program unchanged, its own SIGTRAP included (memtrack
# must tell it from the int3 of its breakpoints), and a stopped program
# stays stopped until SIGCONT.
for sig, status in [("USR1", 7), ("TRAP", 9), ("TERM", 13)]:
    r = trace(["sh", "-c", 'trap "exit %d" %s; kill -%s $$; sleep 1' % (status, sig, sig)], log)
    ok(r.returncode == status, "the program's own handler gets SIG%s" % sig, r.returncode)
p = subprocess.Popen([MEMTRACK, "run", "-o", log, "--", "sh", "-c", "kill -STOP $$; echo go"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
time.sleep(1)
kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
ok(p.poll() is None, "a program that stops itself stays stopped")
for k in kids:
    os.kill(int(k), signal.SIGCONT)
out, _ = p.communicate(timeout=30)
ok(p.returncode == 0 and out == "go\n", "and goes on after SIGCONT", (p.returncode, out))

for cmd, status, pattern in [
    (["/nonexistent/cmd"], 127, r"cannot run '/nonexistent/cmd': No such file"),
    (["no-such-command-xyz"], 127, r"cannot run 'no-such-command-xyz': command not found"),
    (["/etc/passwd"], 126, r"cannot run '/etc/passwd': Permission denied"),
    (["/tmp"], 126, r"cannot run '/tmp': is a directory"),
]:
    with open(log, "w") as f:
        f.write("precious\n")
    r = memtrack("run", "-o", log, "--", *cmd)
    one_line(r, status, pattern, "run %s: exit %d, one line" % (cmd[0], status))
    with open(log) as f:
        ok(f.read() == "precious\n", "run %s: the log file is not written over" % cmd[0])

r = memtrack("run", "-o", "/nonexistent/dir/x.log", "--", "true")
one_line(r, 2, r"cannot write /nonexistent/dir/x.log: No such file", "run: unwritable log")

# A command line that is not UTF-8 still makes valid JSON.
r = trace(["/bin/true", "\udcff", "é"], log)
s = summary(log)
ok(s["command"] == "/bin/true \ufffd é", "summary --json: argv bytes that are not UTF-8 become "
   "U+FFFD, the rest is kept", s["command"])

# capstone is loaded by the tracer alone, when it starts: one that cannot be
# loaded (a file of garbage under its soname, found first) is one line and
# exit 2 before any command runs or process is seized, and the reports,
# which never decode an instruction, do not load it at all.
libdir = run(["pkg-config", "--variable=libdir", "capstone"]).stdout.strip()
soname = re.search(r"^\s*SONAME\s+(\S+)$",
                   run(["objdump", "-p", os.path.join(libdir, "libcapstone.so")]).stdout, re.M)
ok(soname and soname.group(1).startswith("libcapstone.so."), "capstone's soname is known",
   soname)
soname = soname.group(1) if soname else "libcapstone.so"
broken = os.path.join(TMP, "broken-capstone")
os.makedirs(broken, exist_ok=True)
with open(os.path.join(broken, soname), "wb") as f:
    f.write(b"not a library\n" * 64)
broken_env = dict(os.environ, LD_LIBRARY_PATH=broken)
cs_pattern = r"^memtrack: cannot load %s: %s: invalid ELF header$" % (
    re.escape(soname), re.escape(os.path.join(broken, soname)))
marker = os.path.join(TMP, "capstone-ran")
with open(log, "rb") as f:
    before = f.read()
r = run([MEMTRACK, "run", "-o", log, "--", "sh", "-c", "touch " + marker], env=broken_env)
one_line(r, 2, cs_pattern, "run without a loadable capstone: exit 2, one line")
ok(not os.path.exists(marker), "run without a loadable capstone: the command never ran")
with open(log, "rb") as f:
    ok(f.read() == before, "run without a loadable capstone: the log is not written over")
sleeper = subprocess.Popen(["sleep", "60"])
r = run([MEMTRACK, "attach", "-o", log, str(sleeper.pid)], env=broken_env)
one_line(r, 2, cs_pattern, "attach without a loadable capstone: exit 2, one line")
with open("/proc/%d/status" % sleeper.pid) as f:
    status = f.read()
ok(re.search(r"^State:\s+[SR] ", status, re.M) and re.search(r"^TracerPid:\s+0$", status, re.M),
   "attach without a loadable capstone: the process is left running, untraced", status)
sleeper.kill()
sleeper.wait()
plain = memtrack("summary", log, "--json")
r = memtrack("summary", log, "--json", env=broken_env)
ok(plain.returncode == 0 and r.returncode == 0 and r.stdout == plain.stdout and not r.stderr,
   "a report runs the same without a loadable capstone", (r.returncode, r.stderr))

# A --mark that names nothing in the program is said, not silently empty.
r = trace([sample("arrays")], log, extra=["--mark", "no_such_function", "--mark",
                                          "random_array"])
ok(r.returncode == 0 and re.search(r"^memtrack: --mark no_such_function: no function or line of "
                                   r"that name", r.stderr, re.M)
   and "random_array:" not in r.stderr, "run --mark: a location found nowhere gets one line",
   r.stderr)
# ... said as the program starts, before anything it prints, where its
# executable and the libraries it started with can say it (a static
# program's too); once only.
for prog in (["sh", "-c", "echo program-started >&2"],
             [os.path.join(BUILD, "samples", "static", "arrays")]):
    r = trace(prog, log, extra=["--mark", "no_such_function"])
    lines = [l for l in r.stderr.splitlines() if "no_such_function" in l or "program-started" in l
             or "checksum" in l]
    ok(r.returncode == 0 and len(lines) == (2 if prog[0] == "sh" else 1)
       and re.match(r"memtrack: --mark no_such_function: no function or line of that name in "
                    r"\S*%s or the libraries it started with" % os.path.basename(
                        os.path.realpath(shutil.which(prog[0]) or prog[0])), lines[0]),
       "run --mark: a location the program starts without is said before it runs: %s"
       % os.path.basename(prog[0]), r.stderr)
# A location only a library loaded later has: said at the start as not
# there yet, then found and marked, and nothing more at the end.
r = trace([sample("dlopen")], log, extra=["--mark", "plugin_fill"])
said = [l for l in r.stderr.splitlines() if "plugin_fill" in l]
marks = summary(log)["marks"]
ok(r.returncode == 0 and len(said) == 1 and "libraries it loads later are searched too" in said[0]
   and len(marks) == 1 and marks[0]["hits"] >= 1,
   "run --mark: a location in a library loaded later is marked, said once at the start",
   (r.stderr, marks))

# Usage errors: 64.
for args, pattern in [
    (["run"], r"missing CMD"),
    (["top"], r"missing LOG"),
    (["frobnicate"], r"unknown command 'frobnicate'"),
    (["top", log, "--bogus"], r"unknown option '--bogus'"),
    (["top", log, "--by", "nope"], r"unknown --by key 'nope'"),
    (["top", log, "--kind", "nope"], r"unknown --kind 'nope'"),
    (["top", log, "--at", "yesterday"], r"bad WHEN 'yesterday'"),
    (["top", log, "-n", "abc"], r"-n/--limit wants a number"),
    (["top", log, "--by"], r"--by needs a value"),
    (["summary", log, "extra"], r"unexpected argument 'extra'"),
]:
    one_line(memtrack(*args), 64, pattern, "usage error: %s" % " ".join(args[:1] + args[2:]))

r = memtrack("--help")
ok(r.returncode == 0 and "memtrack run" in r.stdout and "exit status" in r.stdout,
   "--help lists the commands and the exit statuses")
for c in ["run", "top", "summary", "replay"]:
    r = memtrack(c, "--help")
    ok(r.returncode == 0 and r.stdout.startswith("usage: memtrack " + c), "%s --help" % c)

# Bad logs: 2, one line naming the file.
trace([sample("kinds")], log)
good = open(log, "rb").read()
bad = os.path.join(TMP, "bad.log")


def write(data):
    with open(bad, "wb") as f:
        f.write(data)


for label, data, pattern in [
    ("empty log", b"", r"bad\.log: empty file"),
    ("not a log", b"hello, world\n" * 10, r"bad\.log: not a memtrack log"),
]:
    write(data)
    for cmd in ["top", "summary", "replay"]:
        one_line(memtrack(cmd, bad), 2, pattern, "%s: %s" % (cmd, label))
one_line(memtrack("top", "/nonexistent.log"), 2, r"/nonexistent\.log: No such file",
         "top: missing log")
one_line(memtrack("top", "/tmp"), 2, r"/tmp: ", "top: a directory as log")

# A moment the log does not have is an error, not the end: exit 2, one line
# that says what the log has (its end in ns, its number of events, its marks).
s = summary(log)
for cmd in (["top"], ["leaks"], ["summary"], ["export", "--format", "csv"]):
    r = memtrack(cmd[0], log, "--at", "99s", *cmd[1:])
    m = re.fullmatch(r"memtrack: %s: no moment 99s: the log ends at (\d+\.\d{1,9})s\n"
                     % re.escape(log), r.stderr)
    ok(r.returncode == 2 and r.stdout == "" and m
       and abs(float(m.group(1)) - s["duration_s"]) < 1e-6,
       "%s --at 99s past the end of a %.3f s log" % (cmd[0], s["duration_s"]),
       "exit %d, stderr %r" % (r.returncode, r.stderr))
r = memtrack("diff", log, "--from", "0s", "--to", "99s")
ok(r.returncode == 2 and re.fullmatch(r"memtrack: .*: no moment 99s: the log ends at [\d.]+s\n",
                                      r.stderr), "diff --to 99s", r.stderr)
r = memtrack("top", log, "--at", "#%d" % s["events"])
ok(r.returncode == 2 and r.stderr == "memtrack: %s: no event #%d: the log has %d events\n"
   % (log, s["events"], s["events"]), "top --at #N just past the last event", r.stderr)
r = memtrack("top", log, "--at", "#%d" % (s["events"] - 1), "-n", "1")
ok(r.returncode == 0 and r.stdout, "top --at #N at the last event", r.stderr)
r = memtrack("top", log, "--at", "mark:9")
ok(r.returncode == 2 and r.stderr == "memtrack: %s: no mark:9: the log has 0 marks\n" % log,
   "top --at mark:9 in a log without marks", r.stderr)

# A log from a newer memtrack: refused by its version, before anything else.
write(good[:8] + (3).to_bytes(4, "little") + good[12:])
one_line(memtrack("top", bad), 2, r"bad\.log: log format version 3 is newer than this memtrack "
         r"supports \(2\)", "top: a log from a future version")
# A log of the first format (before times in ticks and one zstd stream).
write(good[:8] + (1).to_bytes(4, "little") + good[12:])
one_line(memtrack("top", bad), 2, r"bad\.log: log format version 1 is older than this memtrack "
         r"reads \(2\): record it again, or read it with the memtrack that wrote it",
         "top: a log of format version 1")

# Flipping a byte in the middle of a chunk: the checksum catches it.
mid = len(good) // 2
write(good[:mid] + bytes([good[mid] ^ 0x5a]) + good[mid + 1:])
r = memtrack("summary", bad)
one_line(r, 2, r"bad\.log: .*(checksum|corrupt)", "a flipped byte is caught")

# A cut log replays up to its last whole chunk with one warning.
for cut in [len(good) - 1, len(good) * 3 // 4]:
    write(good[:cut])
    r = memtrack("summary", bad, "--json")
    ok(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "warning" in r.stderr
       and "cut short" in r.stderr, "log cut at %d of %d: one warning, exit 1" % (cut, len(good)),
       r.stderr)

# A filter that matches nothing: an empty report is never silent.
r = memtrack("top", log, "--include", "*/no-such-file.c")
ok(r.returncode == 1 and r.stdout == "" and
   re.search(r"^memtrack: warning: .*no allocation site passes --include/--exclude", r.stderr,
             re.M), "an empty report says why, and exits 1", (r.returncode, r.stdout, r.stderr))

# The tracer killed with SIGKILL: the target dies with it, the log replays.
long_log = log_path("killed")
churn = subprocess.Popen([MEMTRACK, "run", "-o", long_log, "--",
                          os.path.join(BUILD, "bench", "churn"), "100000000"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1.5)
children = subprocess.run(["pgrep", "-P", str(churn.pid)], capture_output=True, text=True)
churn.kill()
churn.wait()


def running(pid):
    """Alive and not a zombie (an orphan waits for init to reap it)."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


time.sleep(0.5)
alive = [c for c in children.stdout.split() if running(c)]
ok(children.stdout.strip() and not alive, "killing the tracer kills the target",
   children.stdout + " alive: %s" % alive)
r = memtrack("summary", long_log, "--json")
ok(r.returncode == 1 and "cut short" in r.stderr and '"allocs"' in r.stdout,
   "the killed tracer's log replays up to the cut, with a warning", r.stderr)
done()
