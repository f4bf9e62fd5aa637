"""test_preexisting.py - a log made by `memtrack attach`: the server
sample's workers each keep a ring of 64 blocks and replace one every
millisecond, so once memtrack attaches, every slot's first free is of a
block allocated before the attach.  summary counts those as
preexisting_frees (not as frees, not as errors: unknown_frees stays 0),
each ring exactly once."""
import os
import subprocess
import time

from e2e import *

RING, THREADS = 64, 2
server = subprocess.Popen([sample("server", "O2"), "20", str(THREADS)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1)
log = log_path("attach")
r = memtrack("attach", "-o", log, "--duration", "1.5", str(server.pid))
server.terminate()
server.wait(timeout=30)
if not ok(r.returncode == 0, "memtrack attach -o LOG --duration 1.5 PID exits 0", r.stderr):
    done()
s = summary(log)
ok(s["preexisting_frees"] == RING * THREADS and s["unknown_frees"] == 0,
   "frees of blocks from before the attach are preexisting: one per ring slot",
   {k: s[k] for k in ("allocs", "frees", "preexisting_frees", "unknown_frees")})
ok(s["allocs"] > RING * THREADS and s["frees"] == s["allocs"] - s["leaked_count"],
   "every block allocated while attached is freed or still live", s)
text = memtrack("summary", log).stdout
ok("\npreexisting_frees: %d\n" % (RING * THREADS) in text, "summary's text says so too", text)
r = memtrack("replay", log)
ok(r.stdout.startswith("memtrack log version 2, mode attach,")
   and " proc_start attach space " in r.stdout, "replay shows the attach", r.stdout[:300])
done()
