"""test_export.py - memtrack export in every format, on the seed's arrays
sample, whose ten arrays all come from one line: folded stacks with each
metric, one CSV row per site, the JSON statistics, and massif's file fed to
valgrind's own ms_print."""
import csv
import io
import json
import os

from e2e import *


def commify(n):
    return "{:,}".format(n)


for opt in OPTS:
    log = log_path("arrays-" + opt)
    direct = run([sample("arrays", opt)])
    trace([sample("arrays", opt)], log)
    (_, site, size, count), = expectations(direct.stdout, "heap")
    filename, line = site.rsplit(":", 1)

    # folded: outermost first, the site last; a value per metric
    for metric, value in [("live", size), ("allocated", size), ("count", count)]:
        args = ["--metric", metric] if metric != "live" else []
        r = memtrack("export", log, "--format", "folded", *args)
        lines = r.stdout.splitlines()
        mine = [l for l in lines if l.endswith(";main;random_array %d" % value)]
        ok(r.returncode == 0 and len(mine) == 1 and mine[0].startswith("_start;"),
           "arrays %s: folded --metric %s: _start;...;main;random_array %d" % (opt, metric, value),
           r.stdout + r.stderr)
        ok(all(re.fullmatch(r"[^ ;][^;]*(;[^;]+)* \d+", l) for l in lines) and lines == sorted(lines),
           "arrays %s: folded --metric %s: every line is 'frame;frame value', sorted" % (opt, metric),
           r.stdout)
    r = memtrack("export", log, "--format", "folded", "--include", "samples/*")
    ok(any(l.endswith(";main;random_array %d" % size) for l in r.stdout.splitlines()),
       "arrays %s: folded --include keeps the stack up to the site" % opt, r.stdout)

    # csv: one row per site, the live ones first
    out = os.path.join(TMP, "arrays-%s.csv" % opt)
    r = memtrack("export", log, "--format", "csv", "-o", out)
    with open(out) as f:
        text = f.read()
    rows = list(csv.DictReader(io.StringIO(text)))
    ok(r.returncode == 0 and r.stdout == "" and text.startswith(
        "site,function,file,line,live_bytes,live_count,allocated_bytes,allocations,"
        "temporary_bytes,temporaries,truncated\n"), "arrays %s: csv -o FILE, its header" % opt,
       text[:200])
    same(text.splitlines()[1], "%s,random_array,%s,%s,%d,%d,%d,%d,0,0,0" %
         (site, filename, line, size, count, size, count), "arrays %s: csv, the site's row" % opt)
    ok(all(int(a["live_bytes"]) >= int(b["live_bytes"]) for a, b in zip(rows, rows[1:])),
       "arrays %s: csv rows come biggest first" % opt, text)

    # json: the statistics of the snapshot, as top lists them
    r = memtrack("export", log, "--format", "json", "--at", "peak")
    j = json.loads(r.stdout)
    first = j["statistics"][0]
    same(json.dumps({k: first[k] for k in ("trace", "size", "count", "function", "file", "line")}),
         json.dumps({"trace": site, "size": size, "count": count, "function": "random_array",
                     "file": filename, "line": int(line)}), "arrays %s: json, the first statistic" % opt)
    ok(j["at"] == "peak" and j["kind"] == "heap" and j["by"] == "lineno"
       and j["size"] == sum(s["size"] for s in j["statistics"]),
       "arrays %s: json says what it is of" % opt, r.stdout[:300])
    top = memtrack("top", log, "--at", "peak", "-n", "0").stdout.splitlines()
    ok([s["trace"] for s in j["statistics"] if s["count"]] == [l.split(": size=")[0] for l in top],
       "arrays %s: json lists top's statistics in top's order" % opt)
    r = memtrack("export", log, "--format", "json", "--by", "traceback")
    tb = json.loads(r.stdout)["statistics"][0]["traceback"]
    ok(tb[-1] == {"function": "random_array", "file": filename, "line": int(line)}
       and tb[-2]["function"] == "main", "arrays %s: json --by traceback, oldest frame first" % opt,
       tb)

    # massif: read by valgrind's ms_print
    out = os.path.join(TMP, "arrays-%s.massif" % opt)
    r = memtrack("export", log, "--format", "massif", "-o", out)
    ok(r.returncode == 0, "arrays %s: massif written" % opt, r.stderr)
    with open(out) as f:
        text = f.read()
    ok(text.startswith("desc: ") and "\ntime_unit: B\n" in text and text.count("heap_tree=peak") == 1,
       "arrays %s: massif's header and one peak" % opt, text[:300])
    p = run(["ms_print", out])
    ok(p.returncode == 0 and "Detailed snapshots: [" in p.stdout and " (peak)" in p.stdout,
       "arrays %s: ms_print reads it" % opt, p.stdout[-2000:] + p.stderr)
    node = re.search(r"->\d+\.\d+%% \(([\d,]+)B\) 0x[0-9a-f]+: random_array \(%s\)" %
                     re.escape(site), p.stdout)
    ok(node and node.group(1) == commify(size),
       "arrays %s: ms_print shows the %s B of %s in the peak's tree" % (opt, commify(size), site),
       p.stdout[-3000:])

# What cannot be exported says so, on one line, with the usage status.
for args, pattern in [
    (["--format", "pdf"], r"unknown export format 'pdf': use folded\|massif\|csv\|json\|pprof$"),
    ([], r"export needs --format folded\|massif\|csv\|json\|pprof "),
    (["--format", "folded", "--metric", "weight"], r"unknown --metric 'weight'"),
    (["--format", "massif", "--at", "peak"], r"massif covers the whole run"),
    (["--format", "folded", "--cumulative"], r"--cumulative cannot be used with --format folded"),
]:
    r = memtrack("export", log, *args)
    ok(r.returncode == 64 and len(r.stderr.splitlines()) == 1 and re.search(pattern, r.stderr),
       "export %s: usage error" % " ".join(args), r.stderr)
r = memtrack("export", log, "--format", "csv", "-o", "/nonexistent/dir/x.csv")
ok(r.returncode == 2 and "cannot write /nonexistent/dir/x.csv" in r.stderr,
   "export to a file that cannot be written", r.stderr)
done()
