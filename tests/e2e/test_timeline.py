"""test_timeline.py - memtrack timeline on the seed's map_file and load_text
samples: the CSV's columns and rows agree with summary (what is live at the
end, the peak) and with what the samples say they hold; the SVG is parsed
as XML and must have its title, both axes with units on their ticks, the
legend, every series, and the peak marked.  When the log has marks and RSS
samples (memtrack run --mark), the chart draws them too: see test_marks."""
import csv
import io
import os
import shutil
import xml.etree.ElementTree as ET

from e2e import *

SVG = "{http://www.w3.org/2000/svg}"
AREAS = ["heap (malloc family)", "anonymous mmap", "file mmap"]

seed_dir = os.path.join(TMP, "seed")
os.makedirs(seed_dir)
run([sample("write_arrays", "O2"), seed_dir, "200001"])
data = os.path.join(seed_dir, "numpy_array_length_200001.txt")


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def total(row):
    return int(row["heap_bytes"]) + int(row["anon_mmap_bytes"]) + int(row["file_mmap_bytes"])


def check_svg(path, label, has_rss):
    """The chart's parts, found by their class names."""
    root = ET.parse(path).getroot()
    ok(root.tag == SVG + "svg" and root.get("viewBox") == "0 0 960 540",
       label + ": an SVG document", root.tag)
    title = root.find(SVG + "text[@id='title']")
    ok(title is not None and title.text.startswith("memtrack timeline: "), label + ": a title")
    groups = {g.get("id") or g.get("class"): g for g in root.iter(SVG + "g")}
    for axis, unit in [("axis-x", r"^\d+(\.\d+)? (s|ms|\u00b5s)$"),
                       ("axis-y", r"^\d+(\.\d+)? (B|KiB|MiB|GiB)$")]:
        texts = [t.text for t in groups[axis].iter(SVG + "text")] if axis in groups else []
        ticks = [t for t in texts[:-1] if t != "0"]
        ok(len(texts) >= 4 and texts[0] == "0" and all(re.match(unit, t) for t in ticks),
           "%s: %s has ticks with units and a label" % (label, axis), texts)
    series = [g.get("data-name") for g in root.iter(SVG + "g") if g.get("class") == "series"]
    want = AREAS + (["RSS"] if has_rss else [])
    ok(series == want, label + ": the series drawn", series)
    legend = [g.get("data-name") for g in root.iter(SVG + "g")
              if g.get("class") == "legend-entry"]
    ok(legend[:len(want)] == want, label + ": the legend names them", legend)
    peak = groups.get("peak")
    text = legend[-1] if legend else ""
    ok(peak is not None and peak.find(SVG + "circle") is not None
       and re.match(r"peak \d+(\.\d+)? (B|KiB|MiB|GiB) at \d+(\.\d+)? (s|ms|\u00b5s)$", text)
       and peak.find(SVG + "title").text == text,
       label + ": the peak is marked, and the legend says how high and when", text)
    return root


for opt in OPTS:
    for name, args in [("map_file", [data]), ("load_text", [data])]:
        label = "%s %s" % (name, opt)
        log = log_path("%s-%s" % (name, opt))
        direct = run([sample(name, opt), *args])
        trace([sample(name, opt), *args], log)
        csv_path = os.path.join(TMP, "%s-%s.csv" % (name, opt))
        svg_path = os.path.join(TMP, "%s-%s.svg" % (name, opt))
        r = memtrack("timeline", log, "--csv", csv_path, "--svg", svg_path)
        ok(r.returncode == 0 and r.stdout == "" and r.stderr == "",
           label + ": timeline --csv --svg", r.stderr)
        with open(csv_path) as f:
            text = f.read()
        rows = rows_of(text)
        ok(text.startswith("time_s,heap_bytes,anon_mmap_bytes,file_mmap_bytes,rss_bytes,note\n"),
           label + ": the CSV's columns", text[:100])
        times = [float(row["time_s"]) for row in rows]
        ok(len(rows) >= 3 and times == sorted(times), label + ": rows in time order", times)
        s = summary(log)
        last = rows[-1]
        ok(int(last["heap_bytes"]) == s["leaked_bytes"]
           and int(last["anon_mmap_bytes"]) + int(last["file_mmap_bytes"]) == s["mmap_live_bytes"],
           label + ": the last row is what summary says is live at the end", (last, s))
        peaks = [row for row in rows if row["note"] == "peak"]
        ok(len(peaks) == 1 and total(peaks[0]) == max(total(row) for row in rows),
           label + ": one peak, the highest row", peaks)
        ok(all(row["rss_bytes"] == "" for row in rows) == (s["rss_samples"] == 0),
           label + ": RSS is empty exactly when the log has no sample", s["rss_samples"])
        # what the sample says it holds is in the right column at the end
        for kind, site, size, _ in expectations(direct.stdout):
            column = "heap_bytes" if kind == "heap" else "file_mmap_bytes"
            ok(int(last[column]) >= size, "%s: %s holds the %d bytes of %s" % (label, column,
                                                                           size, site), last)
        check_svg(svg_path, label, s["rss_samples"] > 0)
        if shutil.which("rsvg-convert"):
            p = run(["rsvg-convert", "-o", svg_path + ".png", svg_path])
            ok(p.returncode == 0 and os.path.getsize(svg_path + ".png") > 10000,
               label + ": rsvg-convert renders it", p.stderr)

# The CSV goes to the standard output when no file is named.
r = memtrack("timeline", log)
ok(r.returncode == 0 and r.stdout == text, "timeline alone writes the CSV on stdout")
r = memtrack("timeline", log, "--csv", "x", "--svg", "x")
ok(r.returncode == 64 and "same file" in r.stderr, "--csv and --svg into one file", r.stderr)
r = memtrack("timeline", log, "--svg", "/nonexistent/dir/t.svg")
ok(r.returncode == 2 and "cannot write /nonexistent/dir/t.svg" in r.stderr,
   "an SVG that cannot be written", r.stderr)
done()
