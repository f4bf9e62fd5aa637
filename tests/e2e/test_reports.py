"""test_reports.py - the exact text of traceback reports and of replay, on
samples whose stacks and calls are known.  Frames outside the samples
(libc's start-up code, _start) differ between machines and are stripped
before comparing; the sample's own frames and source lines must be exact,
at -O0 and at -O2 (where random_array is inlined into main: the inline
chain must give the same two frames).  A stack cut at --depth says so in
every report and export that shows stacks."""
import csv
import io
import json

from e2e import *

TRACEBACK = """\
samples/arrays.c:21: size=34.3 MiB, count=10, average=3516 KiB
  File "samples/arrays.c", line 42
    arrays[i] = random_array(length, &seed);
  File "samples/arrays.c", line 21
    double *a = malloc(length * sizeof(*a)); alloc_line = __LINE__;"""


def own_frames(text):
    """Keeps statistic lines and the frames (with their source) in samples/."""
    out, keep = [], False
    for line in text.splitlines():
        if not line.startswith(" "):
            out.append(line)
        elif line.startswith("  File "):
            keep = line.startswith('  File "samples/')
            if keep:
                out.append(line)
        elif keep:
            out.append(line)
    return out


for opt in OPTS:
    log = log_path("arrays-" + opt)
    trace([sample("arrays", opt)], log)
    r = memtrack("top", log, "--by", "traceback", "-n", "1")
    same(own_frames(r.stdout), TRACEBACK, "arrays %s: top --by traceback -n 1" % opt)
    lines = r.stdout.splitlines()
    ok(lines[1].startswith("  File ") and lines[-2] == '  File "samples/arrays.c", line 21',
       "arrays %s: frames run oldest first, the site last" % opt, r.stdout)
    r = memtrack("top", log, "--by", "filename", "-n", "1")
    same(r.stdout, "samples/arrays.c:0: size=34.3 MiB, count=10, average=3516 KiB\n",
         "arrays %s: --by filename" % opt)
    r = memtrack("top", log, "--by", "function", "-n", "1")
    same(r.stdout, "random_array (samples/arrays.c): size=34.3 MiB, count=10, "
         "average=3516 KiB\n", "arrays %s: --by function" % opt)
    r = memtrack("top", log, "--by", "lineno", "-n", "2", "--cumulative",
                 "--include", "samples/*")
    same(r.stdout.splitlines(),
         ["samples/arrays.c:42: size=34.3 MiB, count=10, average=3516 KiB",
          "samples/arrays.c:21: size=34.3 MiB, count=10, average=3516 KiB"],
         "arrays %s: --cumulative counts the site and the caller's line" % opt)

    # replay: the sample's calls, in order, with their sites.
    log = log_path("kinds-" + opt)
    direct = run([sample("kinds", opt)])
    trace([sample("kinds", opt)], log)
    r = memtrack("replay", log)
    calls = []
    fns = r"(malloc|calloc|realloc|reallocarray|free|posix_memalign|memalign|valloc)\("
    in_main = False
    for line in r.stdout.splitlines():
        # frees carry no stack: they belong to the calls around them
        m = re.match(r"#\d+ \+\d+\.\d{6} \d+/\d+ (" + fns +
                     r".*?)(  (samples/kinds\.c:\d+) main)?$", line)
        if m and (m.group(4) or (in_main and m.group(2) == "free")):
            calls.append((re.sub(r"0x[0-9a-f]+", "P", m.group(1)), m.group(4)))
        if m and m.group(4):
            in_main = True
    kept = [(site, n) for _, site, _, n in expectations(direct.stdout)]
    same([c for c, _ in calls],
         ["malloc(100) = P", "calloc(10, 30) = P", "realloc(NULL, 200) = P", "malloc(50) = P",
          "realloc(P, 5000) = P", "reallocarray(NULL, 7, 11) = P", "posix_memalign(64, 640) = P",
          "memalign(128, 1280) = P", "memalign(32, 320) = P", "valloc(4000) = P",
          "malloc(0) = P"] + ["malloc(16) = P"] * 5 +
         ["malloc(123) = P", "free(P)", "malloc(60) = P", "realloc(P, 0) = NULL",
          "malloc(9223372036854775807) = NULL", "malloc(40) = P",
          "realloc(P, 9223372036854775807) = NULL", "free(P)"],
         "kinds %s: replay shows every call with its arguments and result" % opt)
    sites = [s for _, s in calls if s]
    ok(all(site in sites for site, _ in kept),
       "kinds %s: replay names each call's line" % opt, "\n".join(sites))
# Stacks cut at --depth: arrays' allocation is 5 calls deep (random_array,
# main, two of libc's, _start).  --depth 1 keeps the innermost pc: at -O0
# random_array's, at -O2 main's, with random_array inlined in it.
CUT = '  ... (stack cut at --depth 1)'
for opt in OPTS:
    log = log_path("arrays-depth1-" + opt)
    direct = trace([sample("arrays", opt)], log, extra=["--depth", "1"])
    [(_, site, size, count)] = expectations(direct.stdout)
    own = [] if opt == "O0" else ['  File "samples/arrays.c", line 42',
                                  "    arrays[i] = random_array(length, &seed);"]
    want = [statistic(site, size, count), CUT] + own + [
        '  File "samples/arrays.c", line 21',
        "    double *a = malloc(length * sizeof(*a)); alloc_line = __LINE__;"]
    r = memtrack("top", log, "--by", "traceback")
    same(r.stdout, want, "arrays %s --depth 1: top --by traceback marks the cut where the "
         "older frames would be" % opt)
    r = memtrack("leaks", log)
    same(r.stdout, want, "arrays %s --depth 1: leaks marks the cut" % opt)
    r = memtrack("top", log)
    same(r.stdout, [statistic(site, size, count)],
         "arrays %s --depth 1: top by line is the same as uncut" % opt)
    r = memtrack("top", log, "--cumulative")
    same(r.stdout, statistic_lines([("heap", site, size, count)] +
                                   ([("heap", "samples/arrays.c:42", size, count)] if own else [])),
         "arrays %s --depth 1: --cumulative counts no cut frame" % opt)
    r = memtrack("export", log, "--format", "folded")
    same(r.stdout, "[truncated];%srandom_array %d\n" % ("main;" if own else "", size),
         "arrays %s --depth 1: folded starts the stack with [truncated]" % opt)
    r = memtrack("export", log, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    ok(r.stdout.splitlines()[0].endswith(",temporaries,truncated") and len(rows) == 1
       and rows[0]["site"] == site and rows[0]["truncated"] == "1",
       "arrays %s --depth 1: csv says truncated=1" % opt, r.stdout)
    j = json.loads(memtrack("export", log, "--format", "json", "--by", "traceback").stdout)
    stat = j["statistics"][0]
    ok(len(j["statistics"]) == 1 and stat["truncated"] is True
       and [(f["file"], f["line"]) for f in stat["traceback"]]
       == ([("samples/arrays.c", 42)] if own else []) + [("samples/arrays.c", 21)],
       "arrays %s --depth 1: json says truncated, its traceback has only real frames" % opt,
       stat)

    # the whole stack: nothing is cut, nothing says so
    log = log_path("arrays-" + opt)
    r = memtrack("top", log, "--by", "traceback")
    ok(r.returncode == 0 and "stack cut" not in r.stdout, "arrays %s: a whole stack is not "
       "marked cut" % opt, r.stdout)
    r = memtrack("export", log, "--format", "folded")
    ok(r.stdout.startswith("_start;"), "arrays %s: folded from _start" % opt, r.stdout)
    j = json.loads(memtrack("export", log, "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(memtrack("export", log, "--format", "csv").stdout)))
    ok([s["truncated"] for s in j["statistics"]] == [False] * len(j["statistics"])
       and [row["truncated"] for row in rows] == ["0"] * len(rows),
       "arrays %s: json and csv say truncated false" % opt, (j, rows))
done()
