"""test_reports.py - the exact text of traceback reports and of replay, on
samples whose stacks and calls are known.  Frames outside the samples
(libc's start-up code, _start) differ between machines and are stripped
before comparing; the sample's own frames and source lines must be exact,
at -O0 and at -O2 (where random_array is inlined into main: the inline
chain must give the same two frames)."""
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
done()
