"""test_chart.py - the timeline's SVG chart as a browser draws it (Debian's
chromium, headless: see browser.py).  With marks a few microseconds apart
(the marks sample traced with --mark at the line that calls checkpoint()
and at checkpoint() itself), every mark keeps its label, and the labels the
browser renders never overlap: those that would are staggered.  The time
axis ends with the run: the last event, the CSV's last row, sits at the
right end of the axis, and the ticks fall where their values say."""
import csv
import io
import os
import xml.etree.ElementTree as ET

from browser import Browser
from e2e import *

SVG = "{http://www.w3.org/2000/svg}"
LEFT, RIGHT = 92, 960 - 230  # the plot's edges (formats/svg.c)
UNITS = {"s": 1.0, "ms": 1e-3, "\u00b5s": 1e-6}

browser = Browser()
for opt in OPTS:
    label = "marks %s" % opt
    log = log_path("marks-" + opt)
    call = int(re.search(r"checkpoint line (\d+)", run([sample("marks", opt)]).stdout).group(1))
    t = trace([sample("marks", opt)], log,
              extra=["--mark", "samples/marks.c:%d" % call, "--mark", "checkpoint"])
    hits = summary(log)["mark_hits"]
    svg = os.path.join(TMP, "marks-%s.svg" % opt)
    r = memtrack("timeline", log, "--svg", svg)
    ok(t.returncode == 0 and r.returncode == 0 and hits == 5, label + ": traced, charted", r.stderr)

    page = browser.open("file://" + svg)
    lines = page.eval("[...document.querySelectorAll('line.mark')].map(l => +l.getAttribute('x1'))")
    boxes = page.eval("[...document.querySelectorAll('text.mark-label')].map(t => {"
                      " const r = t.getBoundingClientRect();"
                      " return [t.textContent, r.left, r.right, r.top, r.bottom]; })")
    ok(page.errors == [], label + ": the browser shows the chart without an error", page.errors)
    names = sorted(b[0] for b in boxes)
    ok(len(lines) == hits and names == sorted(
        ["mark:1 samples/marks.c:%d" % call] + ["mark:%d checkpoint" % n for n in range(2, 6)]),
       label + ": every mark has its line and its label", names)
    # the test means something only when labels had to move
    width = max([b[2] - b[1] for b in boxes] or [0])
    close = [(a, b) for i, a in enumerate(sorted(lines)) for b in sorted(lines)[i + 1:]
             if b - a < width]
    ok(close, label + ": some marks are closer than a label is wide (%.1f px)" % width,
       sorted(lines))
    overlaps = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                if a[1] < b[2] and b[1] < a[2] and a[3] < b[4] and b[3] < a[4]]
    ok(boxes and not overlaps, label + ": no two labels overlap as rendered", overlaps or boxes)
    ok(all(any(abs((b[1] + b[2]) / 2 - x) < 20 for x in lines) for b in boxes),
       label + ": each label stays beside a mark's line", (boxes, lines))

    # the time axis ends with the run
    rows = list(csv.DictReader(io.StringIO(memtrack("timeline", log).stdout)))
    end = float(rows[-1]["time_s"])
    root = ET.parse(svg).getroot()
    axis = next(g for g in root.iter(SVG + "g") if g.get("id") == "axis-x")
    ticks = [(float(t.get("x")), t.text) for t in axis.iter(SVG + "text")
             if t.get("class") != "label"]
    wrong = []
    for x, text in ticks:
        value = 0.0 if text == "0" else float(text.split()[0]) * UNITS[text.split()[1]]
        if abs(LEFT + value / end * (RIGHT - LEFT) - x) > 0.6 or value > end:
            wrong.append((text, x))
    ok(len(ticks) >= 3 and not wrong,
       label + ": the ticks sit where the run's end (%.6f s) at the axis's end puts them" % end,
       (wrong, ticks))
    xs = [float(v) for p in root.iter(SVG + "path")
          for v in re.findall(r"[ML]([\d.]+) [\d.]+", p.get("d") or "")]
    ok(abs(max(xs) - RIGHT) < 0.06, label + ": the memory is drawn up to the end of the axis",
       max(xs))
browser.close()
done()
