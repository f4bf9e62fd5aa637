"""test_export.py - memtrack export in every format, on the seed's arrays
sample, whose ten arrays all come from one line: folded stacks with each
metric, one CSV row per site, the JSON statistics, and massif's file fed to
valgrind's own ms_print; then massif's file beside the one valgrind's massif
writes for the same programs."""
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

    # massif: read by valgrind's ms_print, its tree holding the arrays
    out = os.path.join(TMP, "arrays-%s.massif" % opt)
    r = memtrack("export", log, "--format", "massif", "-o", out)
    ok(r.returncode == 0, "arrays %s: massif written" % opt, r.stderr)
    p = run(["ms_print", out])
    ok(p.returncode == 0 and "Detailed snapshots: [" in p.stdout,
       "arrays %s: ms_print reads it" % opt, p.stdout[-2000:] + p.stderr)
    node = re.search(r"->\d+\.\d+%% \(([\d,]+)B\) 0x[0-9a-f]+: random_array \(%s\)" %
                     re.escape(site), p.stdout)
    # massif details every 10th snapshot: the start, then one per array,
    # so the 10th holds the first nine, of 1, 100001, ... 800001 doubles
    nine = 8 * sum(100000 * k + 1 for k in range(9))
    ok(node and node.group(1) == commify(nine),
       "arrays %s: ms_print shows the first nine arrays' %s B at %s in the detailed snapshot"
       % (opt, commify(nine), site), p.stdout[-3000:])

# What cannot be exported says so, on one line, with the usage status.
for args, pattern in [
    (["--format", "pdf"], r"unknown export format 'pdf': use folded\|massif\|csv\|json\|pprof$"),
    ([], r"export needs --format folded\|massif\|csv\|json\|pprof "),
    (["--format", "folded", "--metric", "weight"], r"unknown --metric 'weight'"),
    (["--format", "massif", "--at", "peak"], r"massif covers the whole run"),
    (["--format", "massif", "--kind", "all"], r"massif's account of the heap: --kind all"),
    (["--format", "folded", "--cumulative"], r"--cumulative cannot be used with --format folded"),
]:
    r = memtrack("export", log, *args)
    ok(r.returncode == 64 and len(r.stderr.splitlines()) == 1 and re.search(pattern, r.stderr),
       "export %s: usage error" % " ".join(args), r.stderr)
r = memtrack("export", log, "--format", "csv", "-o", "/nonexistent/dir/x.csv")
ok(r.returncode == 2 and "cannot write /nonexistent/dir/x.csv" in r.stderr,
   "export to a file that cannot be written", r.stderr)


def massif_snapshots(path):
    """[(time, mem_heap_B, mem_heap_extra_B, heap_tree)] of a massif file."""
    out = []
    with open(path) as f:
        for block in f.read().split("#-----------\nsnapshot=")[1:]:
            d = dict(re.findall(r"^(\w+)=(.*)$", block, re.M))
            out.append((int(d["time"]), int(d["mem_heap_B"]), int(d["mem_heap_extra_B"]),
                        d["heap_tree"]))
    return out


def massif_trees(path):
    """Per detailed snapshot, the sizes of its tree's root and first level
    in order, the sites below the threshold said as massif says them."""
    out = []
    with open(path) as f:
        for block in f.read().split("#-----------\nsnapshot=")[1:]:
            lines = block.split("heap_tree=")[1].splitlines()[1:]
            top = [re.sub(r"^( ?n\d+: \d+) 0x.*", r"\1", l) for l in lines
                   if re.match(r"^ ?n\d+: ", l)]
            if top:
                out.append(" / ".join(top))
    return out


def ms_print_peak(path):
    """The peak ms_print's graph names, in bytes, and its detailed snapshots."""
    p = run(["ms_print", path])
    peak = re.search(r"^ +([\d.]+)\^", p.stdout, re.M)
    detailed = re.search(r"Detailed snapshots: \[([^\]]*)\]", p.stdout)
    return (peak.group(1) if peak else None, detailed.group(1) if detailed else None)


# Side by side with `valgrind --tool=massif --time-unit=B` on programs that
# realloc (a growing array, trimmed), free what they made (temporaries),
# map and touch (marks), make 6,000 calls, so that massif drops half its
# snapshots again and again (signals), and make arrays of up to 8 MB: the same
# clock to the byte (a realloc counts by how much its block changed, with
# valgrind's allocator's extra bytes), the same snapshots at the same
# moments with the same sizes, the same detailed ones and the same peak, as
# ms_print draws them.
numbers = os.path.join(TMP, "numbers.txt")
with open(numbers, "w") as f:
    for i in range(100001):
        f.write("%.18e\n" % (i / 7.0))
for name, args in [("load_text", [sample("load_text", "O2"), numbers]),
                   ("temporary", [sample("temporary", "O2")]),
                   ("marks", [sample("marks", "O2")]),
                   ("signals", [sample("signals", "O2"), "3000"]),
                   ("arrays", [sample("arrays", "O0")])]:
    theirs = os.path.join(TMP, "vg-%s.massif" % name)
    run(["valgrind", "--tool=massif", "--time-unit=B", "--massif-out-file=" + theirs, *args])
    log = log_path("massif-" + name)
    trace(args, log)
    mine = os.path.join(TMP, "mt-%s.massif" % name)
    memtrack("export", log, "--format", "massif", "-o", mine)
    a, b = massif_snapshots(mine), massif_snapshots(theirs)
    ok(a and b and a[-1][0] == b[-1][0],
       "massif %s: the time axis ends where massif's does (%s B)" % (name, b[-1][0] if b else "?"),
       "memtrack %s, massif %s" % (a[-1:] , b[-1:]))
    ok(len(a) == len(b), "massif %s: as many snapshots as massif's (%d)" % (name, len(b)),
       "memtrack %d, massif %d" % (len(a), len(b)))
    same(["%d %d %d %s" % s for s in a], ["%d %d %d %s" % s for s in b],
         "massif %s: every snapshot's time, heap, extra and tree kind as massif's" % name)
    # massif's --threshold (1%): the sites of less are one line
    same(massif_trees(mine), massif_trees(theirs),
         "massif %s: each detailed tree's first level as massif's, small sites summed "
         "below its threshold" % name)
    ok(ms_print_peak(mine) == ms_print_peak(theirs),
       "massif %s: ms_print draws the same peak and lists the same detailed snapshots" % name,
       "memtrack %s, massif %s" % (ms_print_peak(mine), ms_print_peak(theirs)))
# Several processes in one log (--follow-forks): massif's heap is that of
# the processes running, as its trees are.  A forked child holds a copy of
# its parent's blocks (they count twice, as they are), an exited child's
# or an exec'd image's blocks are gone: so each detailed snapshot's heap is
# its tree's total.  (Before, a child's copy was not counted and the leaks
# of exited children stayed in the heap but not in the tree.)
def heap_and_tree(path):
    """(mem_heap_B, the tree's total) of each detailed snapshot of a massif file."""
    with open(path) as f:
        snaps = f.read().split("#-----------\nsnapshot=")[1:]
    pairs = []
    for snap in snaps:
        if re.search(r"^heap_tree=(detailed|peak)$", snap, re.M):
            heap = int(re.search(r"^mem_heap_B=(\d+)$", snap, re.M).group(1))
            tree = int(re.search(r"^n\d+: (\d+) ", snap, re.M).group(1))
            pairs.append((heap, tree))
    return pairs


for name, args in [("forks", [sample("forks", "O2")]),
                   ("exec", ["sh", "-c", "%s; %s 200; exec %s" % (
                       sample("forks", "O2"), sample("signals", "O2"), sample("temporary", "O2"))]),
                   ("orphan", [sample("spawn", "O2"), "orphan"])]:
    log = log_path("massif-procs-" + name)
    trace(args, log, extra=["--follow-forks"])
    mine = os.path.join(TMP, "mt-procs-%s.massif" % name)
    r = memtrack("export", log, "--format", "massif", "-o", mine)
    pairs = heap_and_tree(mine)
    ok(r.returncode == 0 and pairs and all(h == t for h, t in pairs),
       "massif, several processes (%s): each detailed snapshot's heap is its tree's total "
       "(%d of them)" % (name, len(pairs)), pairs)
    # each process alone (--pid): the heap of its memory, which a clone(CLONE_VM)
    # child shares with its parent (orphan: the child allocates in it, the
    # parent frees), as its tree counts it
    pids = json.loads(memtrack("summary", log, "--json").stdout)["processes"]
    bad = []
    for p in pids:
        one = os.path.join(TMP, "mt-procs-%s-%d.massif" % (name, p["pid"]))
        r = memtrack("export", log, "--format", "massif", "--pid", str(p["pid"]), "-o", one)
        pairs = heap_and_tree(one) if r.returncode == 0 else None
        if pairs is None or any(h != t for h, t in pairs):
            bad.append((p["pid"], r.returncode, pairs))
    ok(len(pids) > 1 and not bad,
       "massif, several processes (%s), --pid of each of %d: each detailed snapshot's heap "
       "is its tree's total" % (name, len(pids)), bad)
done()
