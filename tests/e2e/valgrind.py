"""valgrind.py - compares memtrack's summary with valgrind memcheck's
"total heap usage" line on the same program, in the same environment.

Both runs get one fixed environment.  valgrind adds four variables to its
client's (GLIBCXX_FORCE_NEW, GLIBCPP_FORCE_NEW, LD_LIBRARY_PATH, LD_PRELOAD)
and PWD; memtrack's run gets the same, LD_PRELOAD's value under a name of
the same length (LD_PRELOAX) so that no library is preloaded, yet the
environment a program copies (setenv, perl's %ENV) is byte for byte as
large.  valgrind runs with --run-libc-freeres=no and --run-cxx-freeres=no:
otherwise it calls glibc's and libstdc++'s exit-time cleanup, frees the
program never made, which memtrack (observing, not altering) does not.

Both runs also see the same pids, in width: each starts in a new pid
namespace (unshare, with its own /proc), where the program is pid 1 under
valgrind (its parent 0) and pid 2 under memtrack (its parent, memtrack, 1).
Programs keep pids as text (bash's $PPID, a temporary file's name): with
the machine's pids, the two runs' could differ in digits (9999, 10000) and
their bytes by one.
"""
import os
import re
import subprocess

from e2e import MEMTRACK, TMP, run, summary

BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/root", "LANG": "C", "PYTHONHASHSEED": "0",
            "PERL_HASH_SEED": "0", "PERL_PERTURB_KEYS": "0",
            "TERM": "dumb"}


def _valgrind_additions():
    r = subprocess.run(["env", "-i", "valgrind", "-q", "/usr/bin/env"], capture_output=True,
                       text=True, env={})
    added = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        added[k] = v
    return added


_ADDED = None

# A pid namespace of its own for each run (see above).
NS = ["unshare", "--pid", "--fork", "--mount-proc"]


def memtrack_env(cwd):
    global _ADDED
    if _ADDED is None:
        _ADDED = _valgrind_additions()
    env = dict(BASE_ENV)
    for k, v in _ADDED.items():
        env["LD_PRELOAX" if k == "LD_PRELOAD" else k] = v
    env["PWD"] = cwd
    return env


def valgrind_totals(args, cwd, preload=None):
    env, extra = dict(BASE_ENV), []
    if preload:
        # valgrind replaces the preloaded allocator's entry points (its C++
        # operators too) only when told its soname
        env["LD_PRELOAD"] = preload
        stem = os.path.basename(preload).split(".so")[0].replace("lib", "", 1)
        extra = ["--soname-synonyms=somalloc=*%s*" % stem]
    r = run([*NS, "valgrind", "--run-libc-freeres=no", "--run-cxx-freeres=no", *extra, *args],
            env=env)
    m = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes", r.stderr)
    if not m:
        return None
    return tuple(int(x.replace(",", "")) for x in m.groups())


def memtrack_totals(args, cwd, name, preload=None):
    log = os.path.join(TMP, "vg-%s.log" % name)
    env = memtrack_env(cwd)
    if preload:
        env["LD_PRELOAD"] = preload
    run([*NS, MEMTRACK, "run", "-o", log, "--", *args], env=env)
    s = summary(log)
    return (s["allocs"], s["frees"], s["bytes_allocated"])


def compare(args, name, preload=None):
    """Both runs' (allocs, frees, bytes); with preload, an allocator
    library both preload (valgrind given its soname)."""
    cwd = os.getcwd()
    return memtrack_totals(args, cwd, name, preload), valgrind_totals(args, cwd, preload)


def valgrind_per_process(args):
    """valgrind --trace-children=yes: {command's program name: totals}."""
    r = run([*NS, "valgrind", "--trace-children=yes", "--run-libc-freeres=no",
             "--run-cxx-freeres=no", *args], env=dict(BASE_ENV))
    out, command = {}, {}
    for line in r.stderr.splitlines():
        m = re.match(r"==(\d+)== Command: (\S+)", line)
        if m:
            command[m.group(1)] = os.path.basename(m.group(2))
        m = re.match(r"==(\d+)==   total heap usage: ([\d,]+) allocs, ([\d,]+) frees, "
                     r"([\d,]+) bytes", line)
        if m:
            out[command.get(m.group(1))] = tuple(int(x.replace(",", "")) for x in m.groups()[1:])
    return out


def memtrack_per_process(args, name):
    """memtrack run --follow-forks: {program name: totals} from summary."""
    import json
    log = os.path.join(TMP, "vgp-%s.log" % name)
    run([*NS, MEMTRACK, "run", "--follow-forks", "-o", log, "--", *args],
        env=memtrack_env(os.getcwd()))
    s = json.loads(run([MEMTRACK, "summary", log, "--json"]).stdout)
    return {os.path.basename(p["command"].split()[0]): (p["allocs"], p["frees"],
                                                        p["bytes_allocated"])
            for p in s["processes"]}
