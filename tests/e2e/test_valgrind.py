"""test_valgrind.py - summary's allocs/frees/bytes equal valgrind memcheck's
"total heap usage" on the samples and on real programs (valgrind.py says
how both runs are made comparable)."""
from e2e import *
from valgrind import compare

programs = [
    ("arrays-O0", [sample("arrays", "O0")]),
    ("arrays-O2", [sample("arrays", "O2")]),
    ("kinds-O0", [sample("kinds", "O0")]),
    ("kinds-O2", [sample("kinds", "O2")]),
    ("ls", ["ls", "-la", "/usr/lib"]),
    ("git", ["git", "--version"]),
    ("perl", ["perl", "-e", "my %h = map { $_ => [$_] } 1..1000; print scalar(keys %h)"]),
    ("gcc", ["gcc", "--version"]),
]

print("# %-10s %-28s %-28s" % ("program", "memtrack", "valgrind"))
for name, args in programs:
    mine, theirs = compare(args, name)
    print("# %-10s %-28s %-28s" % (name, mine, theirs))
    ok(theirs is not None and mine == theirs,
       "%s: allocs, frees, bytes as valgrind counts them" % name,
       "memtrack %s, valgrind %s" % (mine, theirs))
done()
