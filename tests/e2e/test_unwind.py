"""test_unwind.py - the cached-rule unwinder and libdwfl's unwinder agree on
every stack: with MEMTRACK_UNWIND_CHECK=1 the tracer walks each stack both
ways and reports any difference on stderr.  Optimized code (-O2 samples,
Debian's binaries) is where unwinding breaks, so that is what is walked."""
import os

from e2e import *

env = dict(os.environ, MEMTRACK_UNWIND_CHECK="1")
seed = os.path.join(TMP, "seed")
os.makedirs(seed)
run([sample("write_arrays", "O2"), seed, "5000"])
programs = [[sample(n, o)] for n in ("arrays", "kinds", "mappings") for o in OPTS]
programs += [[sample("load_text", "O2"), os.path.join(seed, "numpy_array_length_5000.txt")],
             ["ls", "-la", "/usr/lib"], ["git", "--version"], ["perl", "-e", "1"],
             ["python3", "-c", "import json, re"], [os.path.join(BUILD, "bench", "churn"), "2000"]]
for args in programs:
    log = log_path("unwind")
    r = trace(args, log, env=env)
    mismatches = [l for l in r.stderr.splitlines() if "unwind check" in l]
    ok(r.returncode == 0 and not mismatches,
       "%s: both unwinders agree on every stack" % " ".join(os.path.basename(a) for a in args),
       "\n".join(mismatches[:5]) or r.stderr)
done()
