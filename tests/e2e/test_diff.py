"""test_diff.py - memtrack diff against the text Python's own tracemalloc
prints for the same comparison: StatisticDiff objects built from what the
samples say they hold, sorted with StatisticDiff._sort_key as
Snapshot.compare_to() sorts them.  Two runs of one program (the seed
experiment at two lengths), two different programs, one log from its start
to its end, by line, file, and with --cumulative."""
import os

from e2e import *


def site_key(site, by):
    filename, lineno = site.rsplit(":", 1)
    return (filename, 0 if by == "filename" else int(lineno))


def held(exp, by="lineno"):
    """{(file, line): [size, count]} from a sample's expect lines."""
    out = {}
    for _, site, size, count in exp:
        k = site_key(site, by)
        v = out.setdefault(k, [0, 0])
        v[0] += size
        v[1] += count
    return out


def diff_lines(old, new):
    """What Snapshot.compare_to() gives for these groups, as text."""
    stats = []
    for frame, (size, count) in new.items():
        tb = tracemalloc.Traceback((frame,))
        o = old.get(frame)
        if o:
            stats.append(tracemalloc.StatisticDiff(tb, size, size - o[0], count, count - o[1]))
        else:
            stats.append(tracemalloc.StatisticDiff(tb, size, size, count, count))
    for frame, (size, count) in old.items():
        if frame not in new:
            stats.append(tracemalloc.StatisticDiff(tracemalloc.Traceback((frame,)), 0, -size,
                                                   0, -count))
    stats.sort(reverse=True, key=tracemalloc.StatisticDiff._sort_key)
    return [str(s) for s in stats]


seed_dir = os.path.join(TMP, "seed")
os.makedirs(seed_dir)
run([sample("write_arrays", "O2"), seed_dir, "100001", "200001"])


def data(n):
    return os.path.join(seed_dir, "numpy_array_length_%s.txt" % n)


def traced(name, opt, args=(), tag=""):
    """Traces a sample; returns (log, its expect lines)."""
    log = log_path("%s-%s-%s%s" % (name, opt, "-".join(os.path.basename(a) for a in args), tag))
    direct = run([sample(name, opt), *args])
    t = trace([sample(name, opt), *args], log)
    ok(t.returncode == 0, "%s %s traced" % (name, opt), t.stderr)
    return log, expectations(direct.stdout)


MINE = ("--include", "samples/*", "-n", "0")

for opt in OPTS:
    small, small_exp = traced("load_text", opt, [data("100001")])
    big, big_exp = traced("load_text", opt, [data("200001")])
    # The article's comparison: the same line, twice the array.
    r = memtrack("diff", small, big, *MINE)
    same(r.stdout, diff_lines(held(small_exp), held(big_exp)),
         "load_text %s: diff of two lengths, line by line" % opt)
    ok("size=1563 KiB (+781 KiB), count=1 (+0), average=1563 KiB" in r.stdout,
       "load_text %s: the issue's example line" % opt, r.stdout)
    r = memtrack("diff", big, small, *MINE)
    same(r.stdout, diff_lines(held(big_exp), held(small_exp)),
         "load_text %s: and back, shrinking" % opt)
    # One log, from its first event (nothing live) to its end: all new.
    r = memtrack("diff", big, "--from", "#0", *MINE)
    same(r.stdout, diff_lines({}, held(big_exp)), "load_text %s: --from #0 --to end" % opt)
    r = memtrack("diff", big, "--from", "end", "--to", "#0", *MINE)
    same(r.stdout, diff_lines(held(big_exp), {}), "load_text %s: --from end --to #0" % opt)

    # Two different programs: nothing in common, one gone, one new.
    arrays, arrays_exp = traced("arrays", opt)
    kinds, kinds_exp = traced("kinds", opt)
    r = memtrack("diff", arrays, kinds, *MINE)
    same(r.stdout, diff_lines(held(arrays_exp), held(kinds_exp)),
         "arrays vs kinds %s: sites of two programs" % opt)
    # The same program twice: every difference is +0.
    kinds2, _ = traced("kinds", opt, tag="-again")
    r = memtrack("diff", kinds, kinds2, *MINE)
    same(r.stdout, diff_lines(held(kinds_exp), held(kinds_exp)),
         "kinds %s: two runs, nothing changed" % opt)
    # By file: the whole sample is one key.
    r = memtrack("diff", arrays, small, "--by", "filename", *MINE)
    same(r.stdout, diff_lines(held(arrays_exp, "filename"), held(small_exp, "filename")),
         "arrays vs load_text %s: --by filename" % opt)
    # -n keeps the biggest changes.
    r = memtrack("diff", arrays, kinds, "--include", "samples/*", "-n", "2")
    same(r.stdout, diff_lines(held(arrays_exp), held(kinds_exp))[:2],
         "arrays vs kinds %s: -n 2" % opt)

    # The mapped memory: mappings from its start.
    maps, maps_exp = traced("mappings", opt)
    r = memtrack("diff", maps, "--from", "#0", "--kind", "mmap", *MINE)
    same(r.stdout, diff_lines({}, held(maps_exp)), "mappings %s: --kind mmap" % opt)

# --cumulative: the call in main counts the block too, as tracemalloc does.
with open("samples/load_text.c") as f:
    call = [i for i, l in enumerate(f, 1) if "a = load(argv[1], &n);" in l][0]
for opt in OPTS:
    small, small_exp = traced("load_text", opt, [data("100001")])
    big, big_exp = traced("load_text", opt, [data("200001")])
    old, new = held(small_exp), held(big_exp)
    for groups in (old, new):
        groups[("samples/load_text.c", call)] = list(next(iter(groups.values())))
    r = memtrack("diff", small, big, "--cumulative", *MINE)
    same(r.stdout, diff_lines(old, new), "load_text %s: --cumulative" % opt)

# Usage: one log needs --from; bad WHENs and absent moments say so.
log = log_path("load_text-O0-numpy_array_length_100001.txt")
r = memtrack("diff", log)
ok(r.returncode == 64 and "needs --from" in r.stderr, "diff of one log without --from", r.stderr)
r = memtrack("diff", log, "--from", "yesterday")
ok(r.returncode == 64 and "bad WHEN 'yesterday' for --from" in r.stderr, "a bad --from",
   r.stderr)
r = memtrack("diff", log, "--from", "#999999999")
ok(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "no event #999999999" in r.stderr,
   "an event the log does not have", r.stderr)
r = memtrack("diff", log, "/nonexistent.log")
ok(r.returncode == 2 and "/nonexistent.log" in r.stderr, "a missing second log", r.stderr)
r = memtrack("diff", log, "--from", "#0", "--include", "*/nothing.c")
ok(r.returncode == 1 and r.stdout == "" and "no allocation site passes" in r.stderr,
   "a filter that matches nothing says so", r.stderr)
done()
