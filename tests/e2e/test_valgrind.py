"""test_valgrind.py - summary's allocs/frees/bytes equal valgrind memcheck's
"total heap usage" on the samples and on real programs of many kinds: an
interpreter importing modules, coreutils, git, a compiler driver, C++
programs (one under each allocator a program may preload), shells and
scripting languages, a database, a multi-threaded program, samples linked
by lld (valgrind.py says how both runs are made comparable).  `make
check-real` runs this alone and shows the table."""
import shutil
from e2e import *
from valgrind import compare, memtrack_per_process, prefetch, valgrind_per_process

programs = [
    ("arrays -O0", [sample("arrays", "O0")]),
    ("arrays -O2", [sample("arrays", "O2")]),
    ("kinds -O0", [sample("kinds", "O0")]),
    ("kinds -O2", [sample("kinds", "O2")]),
    ("arrays (lld)", [sample("arrays", "lld")]),
    ("kinds (lld)", [sample("kinds", "lld")]),
    ("threads (8)", [sample("threads", "O2")]),
    ("python3 import", ["python3", "-c", "import json, re, collections, argparse"]),
    ("ls", ["ls", "-la", "/usr/lib"]),
    ("sort", ["sort", "-S", "1M", "/etc/services"]),
    ("git log", ["git", "-C", ROOT, "log", "--oneline", "-5"]),
    ("gcc (driver)", ["gcc", "--version"]),
    ("cmake (C++)", ["cmake", "--version"]),
    ("perl", ["perl", "-e", "my %h = map { $_ => [$_] } 1..1000; print scalar(keys %h)"]),
    ("tclsh", ["tclsh", "/dev/null"]),
    ("bash", ["bash", "-c", "for i in 1 2 3; do x=$i; done"]),
    ("awk", ["awk", "BEGIN { for (i = 0; i < 1000; i++) a[i] = i; print length(a) }"]),
    ("sqlite3", ["sqlite3", ":memory:",
                 "create table t(a); insert into t values(1); select * from t;"]),
]

LIBDIR = "/usr/lib/x86_64-linux-gnu"
PRELOADS = ("libjemalloc.so.2", "libtcmalloc_minimal.so.4", "libmimalloc.so.2")
# valgrind's runs start now, beside memtrack's below
prefetch([(args, None) for _, args in programs
          if args[0].startswith("/") or shutil.which(args[0])] +
         [([sample("cxx", opt)], os.path.join(LIBDIR, lib)) for lib in PRELOADS
          for opt in ("O0", "O2") if os.path.exists(os.path.join(LIBDIR, lib))])

print("# %-15s %-30s %-30s" % ("program", "memtrack (allocs, frees, bytes)", "valgrind"))
for name, args in programs:
    if not args[0].startswith("/") and not shutil.which(args[0]):
        ok(False, "%s: %s is not installed (make test installs it)" % (name, args[0]))
        continue
    mine, theirs = compare(args, name.split()[0])
    print("# %-15s %-30s %-30s" % (name, mine, theirs))
    ok(theirs is not None and mine == theirs,
       "%s: allocs, frees, bytes as valgrind counts them" % name,
       "memtrack %s, valgrind %s" % (mine, theirs))
# C++ under each allocator a program may preload: jemalloc, tcmalloc and
# mimalloc define their own operator new and delete, which never reach
# their malloc; both count each new and delete once.
for lib in PRELOADS:
    path = os.path.join(LIBDIR, lib)
    name = "cxx under %s" % lib.split(".")[0]
    if not os.path.exists(path):
        ok(False, "%s: %s is not installed (make test installs it)" % (name, lib))
        continue
    for opt in ("O0", "O2"):
        mine, theirs = compare([sample("cxx", opt)], "cxx-%s-%s" % (lib, opt), preload=path)
        print("# %-15s %-30s %-30s" % (name + " " + opt, mine, theirs))
        ok(theirs is not None and mine == theirs,
           "%s -%s: allocs, frees, bytes as valgrind counts them" % (name, opt),
           "memtrack %s, valgrind %s" % (mine, theirs))
# A shell running two programs, every process traced into one log
# (--follow-forks): each process's own totals, as valgrind --trace-children
# reports them per process.
args = ["sh", "-c", "ls /usr/lib >/dev/null; sort -S 1M /etc/services >/dev/null"]
mine, theirs = memtrack_per_process(args, "sh"), valgrind_per_process(args)
for prog in ("sh", "ls", "sort"):
    print("# %-15s %-30s %-30s" % ("sh -c: " + prog, mine.get(prog), theirs.get(prog)))
    ok(mine.get(prog) is not None and mine.get(prog) == theirs.get(prog),
       "--follow-forks sh -c 'ls; sort': %s's own totals as valgrind counts them" % prog,
       "memtrack %s, valgrind %s" % (mine, theirs))
done()
