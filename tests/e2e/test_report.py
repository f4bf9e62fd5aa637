"""test_report.py - memtrack report's HTML page in a real browser (Debian's
chromium, headless: browser.py).  The page loads from disk with no console
error and asks for nothing but itself; what it renders is read back from
the DOM and checked exactly against what the samples say they allocated,
and against what memtrack's own reports print for the same log:

  - the top site (arrays: the ten arrays of one line), its bytes and count,
    and its size written as tracemalloc writes it;
  - the sites under a file glob, with --include's attribution, equal to
    `top --include GLOB`; mmap sites equal to `top --kind mmap`;
  - sorting by count (dlopen's plugin: 8 blocks at one line) and by
    temporaries (temporary: 100 at one line);
  - the timeline's moment under the pointer at the end of the run: the heap
    summary calls leaked;
  - the flame graph: the site's frame holds its bytes (live at the peak, at
    the end), its allocations; click zooms on it; search sums the matches;
  - the leaks as `memtrack leaks` prints their statistic and traceback;
  - the summary's numbers, the marks and the processes."""
import csv
import io
import json
import os
import tracemalloc

from browser import Browser
from e2e import *

SITES = """[...document.querySelectorAll('#sites-table tbody tr')].map(tr => [
    tr.cells[0].textContent, Object.fromEntries([...tr.querySelectorAll('td[data-key]')].map(
        td => [td.dataset.key, [+td.dataset.value, td.textContent]]))])"""


def fmt(size):
    return tracemalloc._format_size(size, False)


def set_input(page, selector, value):
    page.eval("(() => { const e = document.querySelector(%s); e.value = %s;"
              " e.dispatchEvent(new Event(e.tagName == 'SELECT' ? 'change' : 'input')); })()" %
              (json.dumps(selector), json.dumps(value)))


def top_lines(log, *args):
    return memtrack("top", log, "-n", "0", *args).stdout.splitlines()


def live_lines(rows):
    """The page's sites that hold live memory, as Statistic lines."""
    return [statistic(site, v["endSize"][0], v["endCount"][0]) for site, v in rows
            if v["endCount"][0]]


def report(name, log, page_name=None):
    out = os.path.join(TMP, (page_name or name) + ".html")
    r = memtrack("report", log, "-o", out)
    ok(r.returncode == 0 and r.stdout == "" and r.stderr == "memtrack: report written to %s\n" % out,
       "%s: report -o FILE" % name, r.stderr)
    page = browser.open("file://" + out)
    ok(page.eval("document.body.dataset.ready") == "1" and page.errors == [],
       "%s: the page loads in chromium with no console error" % name, page.errors)
    ok(page.requests == ["file://" + out], "%s: the page asks for nothing but itself" % name,
       page.requests)
    return page, out




browser = Browser()

# --- arrays: one site, ten arrays -----------------------------------------------
for opt in OPTS:
    name = "arrays " + opt
    log = log_path("arrays-" + opt)
    direct = run([sample("arrays", opt)])
    trace([sample("arrays", opt)], log)
    (_, site, size, count), = expectations(direct.stdout, "heap")
    s = summary(log)
    page, out = report(name, log, "arrays-" + opt)
    with open(out) as f:
        html = f.read()
    ok("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';" in html
       and "<script src" not in html and "<link" not in html,
       name + ": one file: inline script and style, nothing else allowed in", html[:600])

    rows = page.eval(SITES)
    first = rows[0] if rows else ["", {}]
    ok(first[0] == site and first[1]["endSize"] == [size, fmt(size)]
       and first[1]["endCount"][0] == count and first[1]["allocs"][0] == count
       and first[1]["allocSize"][0] == size,
       name + ": the top site is %s, %d bytes (%s) in %d blocks" % (site, size, fmt(size), count),
       rows[:3])
    same(live_lines(rows), top_lines(log), name + ": the sites live at the end are top's")
    dd = page.eval("Object.fromEntries([...document.querySelectorAll('#summary [data-key]')]"
                   ".map(d => [d.dataset.key, +d.querySelector('dd').dataset.value]))")
    ok(all(dd.get(k) == s[k] for k in ("allocs", "frees", "bytes_allocated", "peak_bytes",
                                          "leaked_bytes")),
       name + ": the summary's numbers are summary --json's", (dd, s))

    # a glob moves each stack to its innermost frame that matches
    for glob in ["csu/*", "*/libc-start.c", "samples/*", "samples/arr[!x]y?.[ch]", "*/libc-start.[a-c]"]:
        set_input(page, "#glob", glob)
        want = top_lines(log, "--include", glob)
        same(live_lines(page.eval(SITES)) if want else ["(top printed nothing)"], want,
             name + ": under the glob %s the sites are top --include's" % glob)
    set_input(page, "#glob", "no/such/file.c")
    ok(page.eval(SITES) == [] and "No allocation site passes" in page.eval(
        "document.getElementById('sites-note').textContent"),
       name + ": a glob nothing matches says so")
    set_input(page, "#glob", "")

    # the timeline at the end of the run: what summary calls leaked
    tip = page.eval("""(() => { const p = document.getElementById('tl-plot').getBoundingClientRect();
        document.getElementById('tl-plot').dispatchEvent(new MouseEvent('mousemove',
            {clientX: p.right - 0.01, clientY: p.top + p.height / 2, bubbles: true}));
        const t = document.getElementById('tl-tip');
        return [t.hidden, +t.dataset.heap, t.textContent]; })()""")
    ok(tip[0] is False and tip[1] == s["leaked_bytes"] and ("heap: " + fmt(s["leaked_bytes"])) in tip[2],
       name + ": hovering the timeline's end shows the heap left at the end", tip)
    rows_csv = list(csv.DictReader(io.StringIO(memtrack("timeline", log).stdout)))
    maps = page.eval("(() => { const t = document.getElementById('tl-tip').dataset;"
                     " return [+t.anon + +t.file, t.rss]; })()")
    ok(maps == [s["mmap_live_bytes"], rows_csv[-1]["rss_bytes"]],
       name + ": ... the mappings left at the end, and the last RSS sample", (maps, rows_csv[-1]))
    # the page charts the moments `timeline` lists, value for value
    data = json.loads(re.search(r'<script type="application/json" id="memtrack-data">(.*?)</script>',
                                html, re.S).group(1))
    tl = data["timeline"]
    got = [["%.9f" % t, str(h), str(a), str(f), "" if r is None else str(r)]
           for t, h, a, f, r in zip(tl["t"], tl["heap"], tl["anon"], tl["file"], tl["rss"])]
    same([" ".join(g) for g in got],
         [" ".join([r["time_s"], r["heap_bytes"], r["anon_mmap_bytes"], r["file_mmap_bytes"],
                    r["rss_bytes"]]) for r in rows_csv], name + ": the page's timeline is timeline's CSV")

    # the flame graph
    def frame(fn):
        return page.eval("(() => { const f = [...document.querySelectorAll('#flame .frame')]"
                         ".filter(f => f.dataset.name == %s).pop();"
                         " return f ? [+f.dataset.value, f.style.width] : null; })()" % json.dumps(fn))
    for cost, want in [("peak", size), ("leaked", size), ("allocated", size), ("allocations", count)]:
        set_input(page, "#flame-cost", cost)
        got = frame("random_array")
        ok(got is not None and got[0] == want,
           name + ": flame graph, cost %s: random_array holds %d" % (cost, want), got)
    set_input(page, "#flame-cost", "peak")
    page.eval("[...document.querySelectorAll('#flame .frame')].filter("
              "f => f.dataset.name == 'random_array').pop().click()")
    got = frame("random_array")
    ok(got == [size, "100%"], name + ": a click zooms on random_array: it fills the width", got)
    page.eval("document.getElementById('flame-reset').click()")
    set_input(page, "#flame-search", "random_a")
    matched = page.eval("+document.getElementById('flame-info').dataset.matched")
    ok(matched == size and page.eval("document.querySelectorAll('#flame .frame.match').length") >= 1,
       name + ": search highlights random_array and sums its %d bytes" % size, matched)

    # the leaks, as memtrack leaks prints them
    leak = page.eval("(() => { const d = document.querySelector('#leaks-body details');"
                     " return d ? [d.querySelector('summary').textContent,"
                     " d.querySelector('pre').textContent] : null; })()")
    lk = memtrack("leaks", log).stdout.splitlines()
    ok(leak is not None and leak[0] == statistic(site, size, count) == lk[0],
       name + ": the first leak is leaks' first statistic", (leak, lk[:2]))
    want = [l for l in lk[1:] if l.startswith("  File ")]
    want = want[:want.index(next(l for l in want if '"%s"' % site.rsplit(":", 1)[0] in l
                                 and l.endswith("line %s" % site.rsplit(":", 1)[1]))) + 1]
    same(leak[1].splitlines() if leak else [], want, name + ": its traceback, oldest frame first")

# --- several sites: sorting, temporaries, mmap ----------------------------------
log = log_path("dlopen")
direct = run([sample("dlopen", "O2")])
trace([sample("dlopen", "O2")], log)
exp = expectations(direct.stdout, "heap")
page, _ = report("dlopen", log)
page.eval("document.querySelector('th[data-sort=endCount]').click()")
rows = page.eval(SITES)
most = max(exp, key=lambda e: e[3])
ok(rows and rows[0][0] == most[1] and rows[0][1]["endCount"][0] == most[3]
   and rows[0][1]["endSize"][0] == most[2]
   and page.eval("document.querySelector('th.sorted').dataset.sort") == "endCount",
   "dlopen: sorted by count, %s with its %d blocks comes first" % (most[1], most[3]), rows[:3])
mine = {site: (b, c) for _, site, b, c in exp}
got = {r[0]: (r[1]["endSize"][0], r[1]["endCount"][0]) for r in rows if r[0] in mine}
ok(got == mine, "dlopen: each of the sample's sites, its bytes and count", (got, mine))

log = log_path("temporary")
direct = run([sample("temporary", "O2")])
trace([sample("temporary", "O2")], log)
(_, tsite, tbytes, tcount), = expectations(direct.stdout, "temporary")
page, _ = report("temporary", log)
page.eval("document.querySelector('th[data-sort=temps]').click()")
rows = page.eval(SITES)
ok(rows and rows[0][0] == tsite and rows[0][1]["temps"][0] == tcount,
   "temporary: sorted by temporaries, %s with its %d comes first" % (tsite, tcount), rows[:3])
set_input(page, "#glob", "samples/*")
set_input(page, "#flame-cost", "temporary")
total = page.eval("+document.getElementById('flame-info').dataset.total")
want = sum(int(m.group(1)) for m in re.finditer(r"count=(\d+)", "\n".join(
    top_lines(log, "--temporary", "--include", "samples/*"))))
ok(total == want and want >= tcount,
   "temporary: the flame graph of temporaries under samples/* sums top --temporary's %d" % want, total)

log = log_path("marks")
t = trace([sample("marks", "O2")], log, extra=["--mark", "checkpoint"])
s = summary(log)
page, _ = report("marks", log)
set_input(page, "#kind", "2")
same(live_lines(page.eval(SITES)), top_lines(log, "--kind", "mmap"),
     "marks: the mmap sites live at the end are top --kind mmap's")
marks = page.eval("[...document.querySelectorAll('#marks-table tbody tr')].map(r => r.innerText)")
ok(len(marks) == 1 and marks[0].split("\t")[:3] == ["1", "checkpoint", "4"],
   "marks: the marks table: mark 1 at checkpoint, 4 hits", marks)
procs = page.eval("[...document.querySelectorAll('#processes-table tbody tr')].map(r => r.cells[0].textContent)")
ok(procs == [str(s["pid"])], "marks: the processes table", procs)
labels = page.eval("[...document.querySelectorAll('#tl-svg .mark-label')].map(t => t.firstChild.nodeValue)")
ok(labels == ["mark:%d" % n for n in range(1, 5)] and
   page.eval("document.querySelectorAll('#tl-svg line.mark').length") == 4 and
   page.eval("!!document.getElementById('tl-peak')"),
   "marks: the timeline draws the four marks and the peak", labels)
# however close the marks are in time (in a short run, the same pixel), no
# label covers another and each is above the plot
boxes = page.eval("""[...document.querySelectorAll('#tl-svg .mark-label')].map(t => {
    const b = t.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; })""")
plot_top = page.eval("+document.querySelector('#tl-svg rect').getAttribute('y')")
ok(len(boxes) == 4 and all(b[3] <= plot_top for b in boxes) and
   not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
           for i, a in enumerate(boxes) for b in boxes[i + 1:]),
   "marks: the four labels overlap none and stand above the plot", (boxes, plot_top))

# --pid: one process of a --follow-forks log
log = log_path("forks")
t = trace([sample("forks", "O2")], log, extra=["--follow-forks"])
pids = sorted({int(m.group(1)) for m in re.finditer(r"^expect pid=(\d+) ", t.stdout, re.M)})
child = max(pids, key=lambda p: len(re.findall(r"^expect pid=%d heap" % p, t.stdout, re.M)))
exp = [("heap", m.group(1), int(m.group(2)), int(m.group(3))) for m in
       re.finditer(r"^expect pid=%d heap (\S+) (\d+) (\d+)$" % child, t.stdout, re.M)]
out = os.path.join(TMP, "forks-child.html")
r = memtrack("report", log, "--pid", str(child), "-o", out)
page = browser.open("file://" + out)
set_input(page, "#glob", "samples/*")
rows = live_lines(page.eval(SITES))
same(rows, statistic_lines(exp), "forks: report --pid %d: the child's sites, as it says" % child)
same(rows, top_lines(log, "--pid", str(child), "--include", "samples/*"),
     "forks: report --pid: top --pid's sites")
procs = page.eval("[...document.querySelectorAll('#processes-table tbody tr')].map(r => +r.cells[0].textContent)")
ok(r.returncode == 0 and procs == [child] and page.errors == [],
   "forks: report --pid: the processes table has that process only", (procs, page.errors))

# --- where it goes, and what it refuses -------------------------------------------
plain = os.path.join(TMP, "plain.log")
trace([sample("arrays", "O2")], plain)
r = memtrack("report", plain)
ok(r.returncode == 0 and os.path.exists(os.path.join(TMP, "plain.html"))
   and r.stderr == "memtrack: report written to %s\n" % os.path.join(TMP, "plain.html"),
   "report without -o: LOG's name with .html for .log", r.stderr)
r = memtrack("report", plain, "-o", "-")
ok(r.returncode == 0 and r.stdout.startswith("<!DOCTYPE html>") and r.stderr == "",
   "report -o -: the page on the standard output", r.stderr)
r = memtrack("report", os.path.join(TMP, "no-such.log"))
ok(r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "no-such.log" in r.stderr,
   "report of a log that does not exist: one line, status 2", r.stderr)
r = memtrack("report", plain, "-o", "/nonexistent/dir/x.html")
ok(r.returncode == 2 and "cannot write /nonexistent/dir/x.html" in r.stderr,
   "report to a file that cannot be written", r.stderr)
# a stack cut at --depth: its traceback says where, as leaks says it
log = log_path("arrays-depth")
trace([sample("arrays", "O0")], log, extra=["--depth", "3"])
out = os.path.join(TMP, "arrays-depth.html")
r = memtrack("report", log, "-o", out)
page = browser.open("file://" + out)
leak = page.eval("document.querySelector('#leaks-body details pre').textContent").splitlines()
lk = memtrack("leaks", log).stdout.splitlines()
end = next((i for i, l in enumerate(lk[1:], 1) if not l.startswith("  ")), len(lk))
same(leak, [l for l in lk[1:end] if not l.startswith("    ")],
     "--depth 3: the first leak's traceback starts where the stack was cut, as leaks prints it")

# a log cut short: the page says so, and so does the command (status 1)
cut = os.path.join(TMP, "cut.log")
with open(log_path("marks"), "rb") as f:
    data = f.read()
with open(cut, "wb") as f:
    f.write(data[:len(data) // 2])
out = os.path.join(TMP, "cut.html")
r = memtrack("report", cut, "-o", out)
page = browser.open("file://" + out)
ok(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "cut short" in r.stderr
   and "the report covers what was read" in r.stderr and page.errors == []
   and "cut short" in page.eval("(document.querySelector('.warning') || {}).textContent || ''"),
   "report of a log cut short: one warning, status 1, the page says so too",
   (r.returncode, r.stderr, page.errors))
browser.close()
done()
