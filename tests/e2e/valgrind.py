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

valgrind's side does not depend on memtrack's engine: tests/run, which runs
the tracing files once per engine, names a directory in VALGRIND_CACHE
where each valgrind result is kept for the rest of that run, keyed by the
command, its environment and the size and mtime of each file it names.
Only valgrind's figures are kept, never memtrack's, which every run
measures afresh and compares.  prefetch() starts valgrind's runs early,
beside memtrack's.
"""
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
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


def _files(args):
    """(path, size, mtime) of the program and of every file args name."""
    out = []
    for i, a in enumerate(args):
        path = shutil.which(a) if i == 0 else a
        if path and os.path.isfile(path):
            st = os.stat(path)
            out.append((os.path.realpath(path), st.st_size, st.st_mtime_ns))
    return out


def _cached(what, args, cwd, preload, compute):
    """compute()'s result, kept in VALGRIND_CACHE (if set) for the same
    command on the same files; a failed run (None) is not kept."""
    cache = os.environ.get("VALGRIND_CACHE")
    if not cache:
        return compute()
    key = json.dumps([what, args, cwd, preload, BASE_ENV, _files(args + [preload or ""])])
    path = os.path.join(cache, hashlib.sha256(key.encode()).hexdigest() + ".json")
    try:
        with open(path) as f:
            kept = json.load(f)
        if kept["key"] == key:
            return kept["value"]
    except (OSError, ValueError, KeyError):
        pass
    value = compute()
    if value is not None:
        os.makedirs(cache, exist_ok=True)
        with open(path + ".%d" % os.getpid(), "w") as f:
            json.dump({"key": key, "value": value}, f)
        os.replace(path + ".%d" % os.getpid(), path)
    return value


_pool = None
_early = {}


def prefetch(runs):
    """Starts valgrind on each (args, preload) of runs, two at a time in the
    background; compare() then takes their results."""
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    cwd = os.getcwd()
    for args, preload in runs:
        key = (tuple(args), cwd, preload)
        if key not in _early:
            _early[key] = _pool.submit(_totals, args, cwd, preload)


def valgrind_totals(args, cwd, preload=None):
    early = _early.pop((tuple(args), cwd, preload), None)
    return early.result() if early is not None else _totals(args, cwd, preload)


def _totals(args, cwd, preload):
    r = _cached("totals", args, cwd, preload, lambda: _valgrind_totals(args, cwd, preload))
    return tuple(r) if r is not None else None


def _valgrind_totals(args, cwd, preload=None):
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
    out = _cached("per_process", args, os.getcwd(), None, lambda: _valgrind_per_process(args))
    return {k: tuple(v) for k, v in (out or {}).items()}


def _valgrind_per_process(args):
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
    return out or None


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
