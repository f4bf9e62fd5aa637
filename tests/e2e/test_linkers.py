"""test_linkers.py - programs linked by lld, which lays code out at other
addresses than its file offsets (GNU ld keeps them equal), and Rust, which
current rustc links with its own lld: the same exact reports as the GNU-ld
builds of test_samples.py, module offsets that addr2line takes, --mark by
function and by FILE:LINE, and Rust's allocations at the right .rs lines."""
import os

from e2e import *


def lld(name):
    return os.path.join(BUILD, "samples", "lld", name)


def rust(variant):
    return os.path.join(BUILD, "samples", variant, "rust_alloc")


def check_sample(label, path, kind="heap", unfiltered=True):
    """The sample's own account of its memory, as test_samples.py checks it
    (without filters too, for C: in Rust, as in C++, the first frame past
    malloc is the language's library, Vec's growth code)."""
    direct = run([path])
    exp = expectations(direct.stdout, kind)
    if not ok(direct.returncode == 0 and exp, label + ": sample states its memory",
              direct.stdout + direct.stderr):
        return None
    log = log_path(label.replace(" ", "-"))
    t = trace([path], log)
    ok(t.returncode == 0, label + ": traced run exits 0", t.stderr)
    ok(t.stdout == direct.stdout, label + ": traced output is the untraced output", t.stdout)
    top = memtrack("top", log, "--kind", kind, "-n", "0", "--include", "samples/*")
    same(top.stdout, statistic_lines(exp), label + ": top --include 'samples/*'")
    ok(top.returncode == 0 and top.stderr == "", label + ": no warning", top.stderr)
    if unfiltered:
        full = memtrack("top", log, "--kind", kind, "-n", "0").stdout.splitlines()
        mine = [l for l in full if l.startswith("samples/")]
        same(mine, statistic_lines(exp), label + ": top without filters, the sample's lines")
    return log


def addr2line_function(path, offset):
    r = run(["addr2line", "-f", "-e", path, offset])
    return r.stdout.splitlines()[0] if r.returncode == 0 and r.stdout else None


def check_offsets(label, log, path):
    """Frames named MODULE+0xOFF(function): addr2line -f at OFF names that
    function (the README's promise: the offset is an ELF address)."""
    tb = memtrack("top", log, "--by", "traceback", "-n", "0").stdout
    seen = set(re.findall(r'File "%s\+(0x[0-9a-f]+)\(([^)]+)\)"' % re.escape(path), tb))
    ok(seen, label + ": a frame of the program is shown by offset and function", tb[-2000:])
    wrong = [(off, fn, addr2line_function(path, off)) for off, fn in sorted(seen)
             if addr2line_function(path, off) != fn]
    ok(not wrong, label + ": addr2line -f names the function at each offset", wrong)


for name in ("arrays", "kinds"):
    log = check_sample("lld " + name, lld(name))
    if log:
        check_offsets("lld " + name, log, lld(name))

# --mark by function and by FILE:LINE find their code in an lld binary.
MINE = ("--include", "samples/*", "-n", "0")
log = log_path("lld-marks")
t = trace([lld("marks")], log, extra=["--mark", "checkpoint"])
s = summary(log)
ok(t.returncode == 0 and s["mark_hits"] == 4 and s["marks"][0]["hits"] == 4,
   "lld marks: --mark checkpoint is hit 4 times", t.stderr + str(s["marks"]))
want = {}
for m in re.finditer(r"^expect mark:(\d+) heap (\S+) (\d+) (\d+)$", t.stdout, re.M):
    want.setdefault(int(m.group(1)), []).append(("heap", m.group(2), int(m.group(3)),
                                                 int(m.group(4))))
for n in (1, 4):
    r = memtrack("top", log, "--at", "mark:%d" % n, *MINE)
    same(r.stdout, statistic_lines(want.get(n, [])), "lld marks: top --at mark:%d" % n)

call = int(re.search(r"checkpoint line (\d+)", run([lld("marks")]).stdout).group(1))
log = log_path("lld-marks-line")
t = trace([lld("marks")], log, extra=["--mark", "samples/marks.c:%d" % call])
marks = summary(log)["marks"]
ok(t.returncode == 0 and len(marks) == 1 and marks[0]["hits"] == 1,
   "lld marks: --mark samples/marks.c:%d is hit once" % call, t.stderr + str(marks))
r = memtrack("top", log, "--at", "mark:1", *MINE)
same(r.stdout, statistic_lines(want.get(1, [])), "lld marks: --mark FILE:LINE, top --at mark:1")

# Rust: rustc -g, optimized, and with v0 symbol names.
for variant in ("rust", "rust-O2", "rust-v0"):
    comment = run(["readelf", "-p", ".comment", rust(variant)]).stdout
    label = variant + (" (lld)" if "LLD" in comment else " (GNU ld)")
    log = check_sample(label, rust(variant), unfiltered=False)
    if not log:
        continue
    # Rust's own library is v0-mangled whatever the program chose.
    by_fn = memtrack("top", log, "--by", "function", "-n", "0").stdout
    tb = memtrack("top", log, "--by", "traceback", "-n", "0").stdout
    raw = sorted(set(re.findall(r"_R[A-Za-z0-9_]{6,}", by_fn + tb)))
    ok(by_fn and not raw, label + ": every v0 name is demangled", raw[:5])
    # A file of Rust's library is named whole by the program's units (the
    # generic code they instantiate) and relative to /rustc/<hash> by the
    # library's own: one file, one name.
    files = set(re.findall(r'File "([^"]+)", line', tb))
    files |= set(re.findall(r"^\S.* \((\S+)\): size=", by_fn, re.M))
    split = sorted(f for f in files if not f.startswith("/")
                   and any(g.endswith("/" + f) for g in files))
    ok(files and not split, label + ": one file, one name", split)
    # The DWARF name is "alloc"; its v0 linkage name gives the whole path.
    ok("alloc::alloc::alloc (" in by_fn, label + ": functions by their whole path", by_fn)
done()
