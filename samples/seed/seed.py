#!/usr/bin/env python3
"""samples/seed/seed.py - the seed article's experiment, traced by memtrack,
drawn as the article's two charts, and further.

For each array length (1, 100001, ..., 900001, as the article's
range(1, 1000000, 100000)) it writes the numbers file, then

  - load_text reads it into an array (np.loadtxt in the article);
  - map_file maps it and sums it through the mapping (the article's mmap).

Each run is traced with two marks: one where main starts (the article's
snapshot0) and one where the work is done (snapshot1).  The difference
between them is what the article plots, taken as tracemalloc would: the
heap at the sample's own lines (--include 'samples/*').  Beside it: the
mapping the program made at its own lines (which tracemalloc cannot see),
and RSS at each mark when the log has RSS samples (what the kernel keeps
resident).

    samples/seed/seed.py BUILD_DIR OUT_DIR

writes OUT_DIR/seed.csv and the charts OUT_DIR/seed-load_text.svg and
OUT_DIR/seed-map_file.svg.
"""
import csv
import io
import os
import subprocess
import sys

build, out = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
memtrack = os.path.join(root, "memtrack")
bin_dir = os.path.join(build, "samples", "O2")
work = os.path.join(build, "seed")
lengths = list(range(1, 1000000, 100000))
os.makedirs(work, exist_ok=True)
os.makedirs(out, exist_ok=True)


def run(*args):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0, 1):
        sys.exit("seed: %s failed: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def line_of(source, text):
    """The line of the sample that holds text: where its work is done."""
    with open(os.path.join(root, "samples", source)) as f:
        return [i for i, l in enumerate(f, 1) if text in l][0]


def live(log, when, kind):
    """Bytes live at the sample's own lines at a moment, exact (from CSV)."""
    table = run(memtrack, "export", log, "--format", "csv", "--at", when, "--kind", kind,
                "--include", "samples/*")
    return sum(int(row["live_bytes"]) for row in csv.DictReader(io.StringIO(table)))


def rss_at_marks(log):
    """RSS at mark:1 and mark:2, or None when the log has no RSS sample."""
    rows = csv.DictReader(io.StringIO(run(memtrack, "timeline", log)))
    at = {}
    for row in rows:
        for n in (1, 2):
            if ("mark:%d " % n) in row["note"] and row["rss_bytes"]:
                at[n] = int(row["rss_bytes"])
    return at[2] - at[1] if len(at) == 2 else None


def trace(program, data, done_line):
    name = os.path.basename(program)
    log = os.path.join(work, "%s-%s.log" % (name, os.path.basename(data)))
    run(memtrack, "run", "-o", log, "--mark", "main",
        "--mark", "samples/%s.c:%d" % (name, done_line), "--", program, data)
    return log


load_done = line_of("load_text.c", 'say("loaded')
map_done = line_of("map_file.c", 'say("mapped')
rows = []
for n in lengths:
    run(os.path.join(bin_dir, "write_arrays"), work, str(n))
    data = os.path.join(work, "numpy_array_length_%d.txt" % n)
    load = trace(os.path.join(bin_dir, "load_text"), data, load_done)
    mapped = trace(os.path.join(bin_dir, "map_file"), data, map_done)
    row = {
        "length": n,
        "load_heap": live(load, "mark:2", "heap") - live(load, "mark:1", "heap"),
        "load_rss": rss_at_marks(load),
        "map_heap": live(mapped, "mark:2", "heap") - live(mapped, "mark:1", "heap"),
        "map_mmap": live(mapped, "mark:2", "mmap") - live(mapped, "mark:1", "mmap"),
        "map_rss": rss_at_marks(mapped),
        "file_bytes": os.path.getsize(data),
    }
    rows.append(row)
    print("length %7d: load_text heap %+10d  map_file heap %+6d, mapping %+10d, RSS %s / %s"
          % (n, row["load_heap"], row["map_heap"], row["map_mmap"], row["load_rss"],
             row["map_rss"]), flush=True)


def cell(v):
    return "" if v is None else str(v)


with open(os.path.join(out, "seed.csv"), "w") as f:
    names = ["length", "load_heap", "load_rss", "map_heap", "map_mmap", "map_rss", "file_bytes"]
    f.write(",".join(names) + "\n")
    for row in rows:
        f.write(",".join(cell(row[k]) for k in names) + "\n")


def chart(path, title, subtitle, series):
    """series: [(header NAME|STYLE|COLOR, key or function of the row)]"""
    table = "length," + ",".join(h for h, _ in series) + "\n"
    for row in rows:
        values = [key(row) if callable(key) else row[key] for _, key in series]
        table += "%d,%s\n" % (row["length"], ",".join(cell(v) for v in values))
    svg = subprocess.run([os.path.join(build, "seed-chart"), title, subtitle,
                          "array length (elements)"], input=table, stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    with open(path, "w") as f:
        f.write(svg)
    print("wrote", path)


chart(os.path.join(out, "seed-load_text.svg"),
      "Memory difference vs array length: reading the file",
      "load_text: heap live at samples/load_text.c between two marks (main, "
      "line %d), as tracemalloc's compare_to" % load_done,
      [("heap at samples/load_text.c (measured)|points|#1f77b4", "load_heap"),
       ("8 bytes \u00d7 length (expected)|dashed|#d62728", lambda r: 8 * r["length"]),
       ("RSS difference|line|#7b3fa0", "load_rss")])
chart(os.path.join(out, "seed-map_file.svg"),
      "Memory difference vs array length: mapping the file",
      "map_file: the same marks (main, line %d); the heap stays flat, the mapping "
      "holds the file" % map_done,
      [("heap at samples/map_file.c (what tracemalloc sees)|points|#1f77b4", "map_heap"),
       ("mmap at samples/map_file.c (memtrack --kind mmap)|points|#2ca02c", "map_mmap"),
       ("file size|dashed|#999999", "file_bytes"),
       ("RSS difference|line|#7b3fa0", "map_rss")])
