"""test_marks.py - marks: `memtrack run --mark checkpoint` records a mark
each time the sample's checkpoint() runs, as tracemalloc.take_snapshot()
would be called there.  The sample prints what is live at each one, so
top --at mark:N and diff --from mark:N --to mark:M must print exactly
tracemalloc's text for it; summary lists the marks, replay shows them, the
timeline names them and charts RSS (sampled at every mark).  Every check
runs: a tracer that loses --mark, the marks or the RSS samples fails them."""
import csv
import io
import os
import xml.etree.ElementTree as ET

from e2e import *

SVG = "{http://www.w3.org/2000/svg}"


def at_marks(stdout):
    """{N: [(kind, site, size, count)]} from 'expect mark:N KIND SITE SIZE COUNT'."""
    out = {}
    for m in re.finditer(r"^expect mark:(\d+) (\w+) (\S+) (\d+) (\d+)$", stdout, re.M):
        out.setdefault(int(m.group(1)), []).append(
            (m.group(2), m.group(3), int(m.group(4)), int(m.group(5))))
    return out


def held(exp, kind):
    out = {}
    for k, site, size, count in exp:
        if k == kind:
            filename, lineno = site.rsplit(":", 1)
            out[(filename, int(lineno))] = [size, count]
    return out


def diff_lines(old, new):
    stats = []
    for frame, (size, count) in new.items():
        o = old.get(frame, [0, 0])
        stats.append(tracemalloc.StatisticDiff(tracemalloc.Traceback((frame,)), size,
                                               size - o[0], count, count - o[1]))
    for frame, (size, count) in old.items():
        if frame not in new:
            stats.append(tracemalloc.StatisticDiff(tracemalloc.Traceback((frame,)), 0, -size,
                                                   0, -count))
    stats.sort(reverse=True, key=tracemalloc.StatisticDiff._sort_key)
    return [str(s) for s in stats]


MINE = ("--include", "samples/*", "-n", "0")
for opt in OPTS:
    label = "marks " + opt
    log = log_path("marks-" + opt)
    t = trace([sample("marks", opt)], log, extra=["--mark", "checkpoint"])
    if not ok(t.returncode == 0, label + ": traced with --mark checkpoint", t.stderr):
        continue
    want = at_marks(t.stdout)
    s = summary(log)
    marks = s["marks"]
    ok(s["mark_hits"] == 4 and len(marks) == 1 and marks[0]["mark"] == 1
       and marks[0]["location"] == "checkpoint" and marks[0]["hits"] == 4
       and marks[0]["first"] == "mark:1", label + ": summary lists the mark and its 4 hits", marks)
    for n in range(1, 5):
        r = memtrack("top", log, "--at", "mark:%d" % n, *MINE)
        same(r.stdout, statistic_lines([e for e in want[n] if e[0] == "heap"]),
             "%s: top --at mark:%d" % (label, n))
    r = memtrack("top", log, "--at", "mark:3", "--kind", "mmap", *MINE)
    same(r.stdout, statistic_lines([e for e in want[3] if e[0] == "mmap"]),
         label + ": top --at mark:3 --kind mmap")
    for a, b in [(1, 2), (2, 4), (4, 1)]:
        r = memtrack("diff", log, "--from", "mark:%d" % a, "--to", "mark:%d" % b, *MINE)
        same(r.stdout, diff_lines(held(want[a], "heap"), held(want[b], "heap")),
             "%s: diff --from mark:%d --to mark:%d" % (label, a, b))
    r = memtrack("top", log, "--at", "mark:5")
    ok(r.returncode == 2 and "no mark:5: the log has 4 marks" in r.stderr,
       label + ": a mark the log does not have", r.stderr)
    r = memtrack("replay", log)
    ok(len(re.findall(r' mark 1 "checkpoint"  samples/marks\.c:\d+', r.stdout)) == 4
       or len(re.findall(r' mark 1 "checkpoint"', r.stdout)) == 4,
       label + ": replay shows each mark with its location", r.stdout[-2000:])

    # the timeline names the marks; with RSS samples it charts RSS
    svg_path = os.path.join(TMP, "marks-%s.svg" % opt)
    r = memtrack("timeline", log, "--svg", svg_path)
    rows = list(csv.DictReader(io.StringIO(memtrack("timeline", log).stdout)))
    notes = [row["note"] for row in rows if "mark:" in row["note"]]
    ok([re.sub(r"^peak; ", "", n) for n in notes] == ["mark:%d checkpoint" % n for n in range(1, 5)],
       label + ": the CSV notes each mark", notes)
    root = ET.parse(svg_path).getroot()
    lines = [l for l in root.iter(SVG + "line") if l.get("class") == "mark"]
    labels = [t.text for t in root.iter(SVG + "text") if t.get("class") == "mark-label"]
    ok(len(lines) == 4 and labels == ["mark:%d checkpoint" % n for n in range(1, 5)],
       label + ": the chart draws the marks as labelled lines", labels)
    ok(s["rss_samples"] >= 4, label + ": RSS sampled at least at each mark", s["rss_samples"])
    rss = [int(row["rss_bytes"] or 0) for row in rows if "mark:" in row["note"]]
    ok(len(rss) == 4 and rss[0] >= 4 << 20 and rss[2] > rss[1],
       label + ": RSS at each mark follows what the sample touched", rss)
    series = [g.get("data-name") for g in root.iter(SVG + "g") if g.get("class") == "series"]
    ok("RSS" in series, label + ": the chart has the RSS line", series)

# A mark at a line: the location as given
log = log_path("marks-line")
call = int(re.search(r"checkpoint line (\d+)", run([sample("marks")]).stdout).group(1))
t = trace([sample("marks")], log, extra=["--mark", "samples/marks.c:%d" % call])
marks = summary(log)["marks"]
ok(t.returncode == 0 and len(marks) == 1 and marks[0]["location"] == "samples/marks.c:%d" % call
   and marks[0]["hits"] == 1, "--mark FILE:LINE: one hit, named as given", marks)
r = memtrack("top", log, "--at", "mark:1", *MINE)
same(r.stdout, statistic_lines([e for e in at_marks(t.stdout)[1] if e[0] == "heap"]),
     "--mark FILE:LINE: top --at mark:1")
done()
