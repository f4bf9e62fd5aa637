"""test_report_options.py - the report options heaptrack_print and massif
have: top/diff/leaks --sort count, --alloc-fn, summary --histogram.  (The
C++ standard library's frames counted as the allocator's are checked in
test_tracer.py, on samples/cxx.cpp.)  Every expected
text is made from what the samples say they did (their "expect" lines),
rendered and sorted by Python's own tracemalloc where tracemalloc has an
order, never from memtrack's output."""
import json
import os

from e2e import *


def held(exp):
    """{(file, line): [size, count]} from a sample's expect lines."""
    out = {}
    for _, site, size, count in exp:
        filename, lineno = site.rsplit(":", 1)
        v = out.setdefault((filename, int(lineno)), [0, 0])
        v[0] += size
        v[1] += count
    return out


def by_count(stats, size, count):
    """--sort count: the most first, then the biggest, then tracemalloc's
    own key (all descending)."""
    return sorted(stats, reverse=True, key=lambda s: (count(s), size(s), s._sort_key()))


def top_by_count(exp):
    stats = [tracemalloc.Statistic(tracemalloc.Traceback((frame,)), size, count)
             for frame, (size, count) in held(exp).items()]
    return [str(s) for s in by_count(stats, lambda s: s.size, lambda s: s.count)]


def diff_by_count(new):
    """diff --from #0 (nothing live then) --sort count: StatisticDiff's
    key with the counts first: (|count_diff|, count, |size_diff|, size)."""
    stats = [tracemalloc.StatisticDiff(tracemalloc.Traceback((frame,)), size, size, count, count)
             for frame, (size, count) in held(new).items()]
    stats.sort(reverse=True, key=lambda s: (abs(s.count_diff), s.count, abs(s.size_diff),
                                            s.size, s.traceback))
    return [str(s) for s in stats]


def traced(name, opt, args=()):
    log = log_path("%s-%s" % (name, opt))
    direct = run([sample(name, opt), *args])
    t = trace([sample(name, opt), *args], log)
    ok(t.returncode == 0 and t.stdout == direct.stdout, "%s %s traced" % (name, opt),
       t.stderr)
    return log, direct.stdout


MINE = ("--include", "samples/*", "-n", "0")

for opt in OPTS:
    kinds, out = traced("kinds", opt)
    exp = expectations(out, "heap")
    # --sort count: five blocks of 16 bytes lead, the biggest block no
    # longer does
    r = memtrack("top", kinds, "--sort", "count", *MINE)
    same(r.stdout, top_by_count(exp), "kinds %s: top --sort count" % opt)
    ok(r.stdout.startswith("samples/kinds.c:") and "count=5," in r.stdout.splitlines()[0],
       "kinds %s: the site of most blocks first" % opt, r.stdout)
    r = memtrack("top", kinds, "--sort", "size", *MINE)
    same(r.stdout, statistic_lines(exp), "kinds %s: top --sort size is tracemalloc's order" % opt)
    r = memtrack("diff", kinds, "--from", "#0", "--sort", "count", *MINE)
    same(r.stdout, diff_by_count(exp), "kinds %s: diff --sort count" % opt)
    # leaks: the same blocks, by traceback, most first
    r = memtrack("leaks", kinds, "--sort", "count", "--include", "samples/*")
    firsts = [l for l in r.stdout.splitlines() if not l.startswith(" ")]
    same(firsts, top_by_count(exp), "kinds %s: leaks --sort count, one traceback a site" % opt)

    # summary --histogram: the sample's own allocations by size class
    s = summary(kinds)
    sizes = [int(m) for m in re.findall(r"^expect alloc (\d+)$", out, re.M)]
    ok(len(sizes) == s["allocs"], "kinds %s: the sample states every allocation" % opt,
       (sizes, s["allocs"]))
    classes = {}
    for n in sizes:
        c = classes.setdefault(n.bit_length(), [0, 0])
        c[0] += 1
        c[1] += n

    def power(k):
        units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        return "%d %s" % (1 << (k % 10), units[k // 10])

    text = ["histogram (allocs by size class):"]
    for k in sorted(classes):
        name = "0 B" if k == 0 else "[%s, %s)" % (power(k - 1), power(k))
        text.append("  %s: %d allocs, %d bytes" % (name, *classes[k]))
    r = memtrack("summary", kinds, "--histogram")
    lines = r.stdout.splitlines()
    at = lines.index(text[0]) if text[0] in lines else len(lines)
    same(lines[at:at + len(text)], text, "kinds %s: summary --histogram" % opt)
    r = memtrack("summary", kinds, "--histogram", "--json")
    want = [{"from": (1 << (k - 1)) if k else 0, "to": 1 << k, "allocs": classes[k][0],
             "bytes": classes[k][1]} for k in sorted(classes)]
    ok(json.loads(r.stdout).get("histogram") == want,
       "kinds %s: summary --histogram --json" % opt, r.stdout)
    ok("histogram" not in memtrack("summary", kinds, "--json").stdout,
       "kinds %s: no histogram unless asked" % opt)

    # --alloc-fn: wrappers of malloc and calloc charge their callers
    wrappers, out = traced("wrappers", opt)
    r = memtrack("top", wrappers, *MINE)
    same(r.stdout, statistic_lines(expectations(out, "wrapped")),
         "wrappers %s: without --alloc-fn, the wrappers' lines" % opt)
    r = memtrack("top", wrappers, "--alloc-fn", "x*alloc", *MINE)
    same(r.stdout, statistic_lines(expectations(out, "heap")),
         "wrappers %s: --alloc-fn 'x*alloc', the callers' lines" % opt)
    r = memtrack("top", wrappers, "--alloc-fn", "xmalloc", "--alloc-fn", "xcalloc", *MINE)
    same(r.stdout, statistic_lines(expectations(out, "heap")),
         "wrappers %s: --alloc-fn twice, by name" % opt)
    r = memtrack("top", wrappers, "--alloc-fn", "xcalloc", *MINE)
    same(r.stdout, statistic_lines([e for e in expectations(out, "heap") if e[2] == 400] +
                                   [("heap",) + e[1:] for e in expectations(out, "wrapped")
                                    if e[3] == 4]),
         "wrappers %s: --alloc-fn xcalloc, xmalloc's line stays" % opt)
    r = memtrack("leaks", wrappers, "--alloc-fn", "x*alloc", "--include", "samples/*")
    firsts = [l for l in r.stdout.splitlines() if not l.startswith(" ")]
    same(firsts, statistic_lines(expectations(out, "heap")),
         "wrappers %s: leaks --alloc-fn" % opt)
    r = memtrack("diff", wrappers, "--from", "#0", "--alloc-fn", "x*alloc", *MINE)
    ok(r.returncode == 0 and len(r.stdout.splitlines()) == 3 and
       all(l.split(":")[1] in {e[1].split(":")[1] for e in expectations(out, "heap")}
           for l in r.stdout.splitlines()),
       "wrappers %s: diff --alloc-fn, the callers' lines" % opt, r.stdout)
    r = memtrack("export", wrappers, "--format", "csv", "--alloc-fn", "x*alloc",
                 "--include", "samples/*")
    sites = sorted(l.split(",")[0] for l in r.stdout.splitlines()[1:])
    ok(sites == sorted(e[1] for e in expectations(out, "heap")),
       "wrappers %s: export --alloc-fn" % opt, r.stdout)

# A log is decoded ahead of the replay by a thread when there is a second
# CPU: with one (taskset, of util-linux), the same reports, read in one
# thread.
log = log_path("kinds-O2")
for cmd in (["top", log, "-n", "0"], ["top", log, "--at", "peak"], ["leaks", log],
            ["summary", log, "--json"], ["timeline", log],
            ["export", log, "--format", "massif"], ["diff", log, "--from", "#0"]):
    one = run(["taskset", "-c", "0", MEMTRACK, *cmd])
    two = memtrack(*cmd)
    ok(one.returncode == two.returncode and one.stdout == two.stdout and one.stdout != "",
       "%s: the same on one CPU as on two" % cmd[0], one.stderr)

r = memtrack("top", log_path("kinds-O0"), "--sort", "calls")
ok(r.returncode == 64 and "unknown --sort 'calls': use size or count" in r.stderr,
   "a bad --sort", r.stderr)
r = memtrack("timeline", log_path("kinds-O0"), "--alloc-fn", "x")
ok(r.returncode == 64 and "unknown option '--alloc-fn'" in r.stderr,
   "timeline takes no --alloc-fn", r.stderr)
done()
