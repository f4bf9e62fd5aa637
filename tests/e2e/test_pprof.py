"""test_pprof.py - memtrack export --format pprof, read by its real consumer,
Go's `go tool pprof` (Debian's golang-go): the four sample types of Go's
heap profiles, the exact bytes and counts of each site the samples say they
allocated (arrays at its end, marks at mark:2, where two sites are live),
functions with file:line, the inline chain of an -O2 build, and the
mappings with the build-ids readelf reads from the binaries."""
import gzip
import os
import shutil

from e2e import *

GO = shutil.which("go")
ok(GO is not None, "go is installed (golang-go)", "make test installs it")


def pprof(*args):
    r = run([GO, "tool", "pprof", *args])
    return r.stdout + r.stderr, r.returncode


def top_lines(path, index):
    """-top -lines -unit=B: {site: flat} for the sites with flat > 0."""
    text, rc = pprof("-top", "-lines", "-unit=B", "-sample_index=" + index, path)
    flat = {}
    for m in re.finditer(r"^\s*(\d+)B?\s+[\d.]+%\s+[\d.]+%\s+\d+B?\s+[\d.]+%\s+(\S+) (\S+?:\d+)"
                         r"( \(inline\))?$", text, re.M):
        if int(m.group(1)):
            flat[m.group(3)] = (int(m.group(1)), m.group(2), bool(m.group(4)))
    return flat, text, rc


def build_id(path):
    r = run(["readelf", "-n", path])
    m = re.search(r"Build ID: ([0-9a-f]+)", r.stdout)
    return m.group(1) if m else None


for opt in OPTS:
    log = log_path("arrays-" + opt)
    direct = run([sample("arrays", opt)])
    trace([sample("arrays", opt)], log)
    (_, site, size, count), = expectations(direct.stdout, "heap")
    out = os.path.join(TMP, "arrays-%s.pb.gz" % opt)
    r = memtrack("export", log, "--format", "pprof", "-o", out)
    ok(r.returncode == 0 and r.stdout == "" and r.stderr == "",
       "arrays %s: export --format pprof -o FILE" % opt, r.stderr)
    with open(out, "rb") as f:
        head = f.read(2)
    ok(head == b"\x1f\x8b" and len(gzip.open(out).read()) > 100,
       "arrays %s: the file is gzip" % opt, head)

    # -raw: the sample types in Go's order, inuse_space the default
    raw, rc = pprof("-raw", out)
    ok(rc == 0 and "alloc_objects/count alloc_space/bytes inuse_objects/count "
       "inuse_space/bytes[dflt]" in raw, "arrays %s: Go's heap sample types" % opt, raw[:2000])
    # the site: its bytes and count in every type
    for index, want in [("inuse_space", size), ("alloc_space", size),
                        ("inuse_objects", count), ("alloc_objects", count)]:
        flat, text, rc = top_lines(out, index)
        ok(rc == 0 and site in flat and flat[site][:2] == (want, "random_array"),
           "arrays %s: pprof -top -sample_index=%s: random_array %s %d" % (opt, index, site, want),
           text)
    # -O2 inlines random_array into main: one location, two lines
    flat, text, _ = top_lines(out, "inuse_space")
    if site in flat:
        inline = opt == "O2"
        ok(flat[site][2] == inline, "arrays %s: the site is %s" %
           (opt, "an inline frame" if inline else "a frame of its own"), text)
        m = re.search(r"^\s+\d+: 0x[0-9a-f]+ M=\d+ random_array \S+:%s s=0\n"
                      r"(\s+main \S+:\d+ s=0\n)?" % site.rsplit(":", 1)[1], raw, re.M)
        ok(m is not None and bool(m.group(1)) == inline,
           "arrays %s: -raw shows the location's inline chain" % opt, raw)
    # the mappings: the sample's binary and libc, with their build-ids
    binary = os.path.realpath(sample("arrays", opt))
    maps = re.findall(r"^\d+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ (\S+) ([0-9a-f]*) \[FN\]\[FL\]\[LN\]\[IN\]$",
                      raw, re.M)
    ok((binary, build_id(binary)) in maps, "arrays %s: the binary's mapping has its build-id" % opt,
       "%s %s\n%s" % (binary, build_id(binary), maps))
    libc = [m for m in maps if m[0].endswith("/libc.so.6")]
    ok(len(libc) == 1 and libc[0][1] == build_id(libc[0][0]),
       "arrays %s: libc's mapping has its build-id" % opt, maps)

# Two sites live at once: the marks sample at mark:2.
log = log_path("marks")
direct = run([sample("marks", "O2")])
trace([sample("marks", "O2")], log, extra=["--mark", "checkpoint"])
want = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in
        re.finditer(r"^expect mark:2 heap (\S+) (\d+) (\d+)$", direct.stdout, re.M)}
out = os.path.join(TMP, "marks.pb.gz")
r = memtrack("export", log, "--format", "pprof", "--at", "mark:2", "-o", out)
space, text, _ = top_lines(out, "inuse_space")
objects, _, _ = top_lines(out, "inuse_objects")
ok(r.returncode == 0 and len(want) == 2 and
   {s: v[0] for s, v in space.items()} == {s: v[0] for s, v in want.items()} and
   {s: v[0] for s, v in objects.items()} == {s: v[1] for s, v in want.items()},
   "marks: pprof at mark:2 has exactly the two sites' bytes and counts", "%s\n%s" % (want, text))

r = memtrack("export", log, "--format", "pprof", "-o", "/nonexistent/dir/x.pb.gz")
ok(r.returncode == 2 and "cannot write /nonexistent/dir/x.pb.gz" in r.stderr,
   "pprof to a file that cannot be written", r.stderr)
done()
