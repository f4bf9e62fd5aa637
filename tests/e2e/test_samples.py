"""test_samples.py - every sample, built at -O0 and -O2, traced; the report
must say exactly what the sample says it allocated, at the lines it names,
and nothing else at a line of the sample (which is what --include
'samples/*' answers: "which line of MY code holds this memory")."""
import os

from e2e import *

seed_dir = os.path.join(TMP, "seed")
os.makedirs(seed_dir)
lengths = ["1", "100001", "200001"]
r = run([sample("write_arrays", "O2"), seed_dir, *lengths])
ok(r.returncode == 0, "write_arrays writes the seed files", r.stderr)


def data(n):
    return os.path.join(seed_dir, "numpy_array_length_%s.txt" % n)


cases = [
    ("arrays", [], "heap"),
    ("kinds", [], "heap"),
    ("mappings", [], "mmap"),
    ("load_text", [data("100001")], "heap"),
    ("load_text", [data("200001")], "heap"),
    ("map_file", [data("200001")], "mmap"),
]

for opt in OPTS:
    for name, args, kind in cases:
        label = "%s %s %s" % (name, opt, " ".join(os.path.basename(a) for a in args))
        direct = run([sample(name, opt), *args])
        exp = expectations(direct.stdout, kind)
        if not ok(direct.returncode == 0 and exp, label + ": sample states its memory",
                  direct.stdout + direct.stderr):
            continue
        log = log_path("%s-%s" % (name, opt))
        t = trace([sample(name, opt), *args], log)
        ok(t.returncode == 0, label + ": traced run exits 0", t.stderr)
        ok(t.stdout == direct.stdout, label + ": traced output is the untraced output",
           t.stdout)
        top = memtrack("top", log, "--kind", kind, "-n", "0", "--include", "samples/*")
        same(top.stdout, statistic_lines(exp), label + ": top --include 'samples/*'")
        ok(top.returncode == 0 and top.stderr == "", label + ": no warning", top.stderr)
        # Without filters each site is still its own line.
        full = memtrack("top", log, "--kind", kind, "-n", "0").stdout.splitlines()
        mine = [l for l in full if l.startswith("samples/")]
        same(mine, statistic_lines(exp), label + ": top without filters, the sample's lines")

# The seed experiment's point: reading the text file costs 8 bytes per
# element on the heap, mapping it costs no heap at all.
for n in lengths[1:]:
    log = log_path("map-heap-" + n)
    trace([sample("map_file", "O2"), data(n)], log)
    r = memtrack("top", log, "--kind", "heap", "--include", "samples/*")
    ok(r.stdout == "" and r.returncode == 1 and "warning" in r.stderr,
       "map_file %s: no heap at a line of the sample (an empty report says so)" % n,
       r.stdout + r.stderr)
done()
