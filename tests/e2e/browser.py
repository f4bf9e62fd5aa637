"""browser.py - a real browser for the end-to-end tests: Debian's chromium,
headless, driven over the DevTools protocol through a pipe
(--remote-debugging-pipe: JSON messages separated by NUL bytes on fds 3 and
4), so no port is opened and nothing but Python's standard library is needed.

    with Browser() as b:
        page = b.open("file:///tmp/report.html")
        page.eval("document.title")
        page.errors      # console errors, warnings, uncaught exceptions
        page.requests    # every URL the page asked for

The browser runs with a new empty profile, no network services of its own
(no component updates, sync or QUIC), and is killed on exit.
"""
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time

CHROMIUM = shutil.which("chromium")


class BrowserError(Exception):
    pass


class Browser:
    def __init__(self, timeout=60):
        if not CHROMIUM:
            raise BrowserError("chromium is not installed (make test installs it)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="memtrack-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def fds():
            # the protocol's fds are 3 (commands in) and 4 (answers out)
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--user-data-dir=" + self.profile, "--remote-debugging-pipe",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=fds)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next = 0
        self._events = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("Browser.close", timeout=10)
            except (BrowserError, OSError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise BrowserError("chromium did not answer in time")
            import select
            ready, _, _ = select.select([self._from_chrome], [], [], 0.5)
            if not ready:
                if self.proc.poll() is not None:
                    raise BrowserError("chromium exited with status %d" % self.proc.returncode)
                continue
            data = os.read(self._from_chrome, 1 << 20)
            if not data:
                raise BrowserError("chromium closed its pipe")
            self._buf += data
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=None):
        """One command; returns its result, keeps the events that came first."""
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._next:
                if "error" in m:
                    raise BrowserError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            if "method" in m:
                self._events.append(m)

    def wait_event(self, method, session, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, m in enumerate(self._events):
                if m["method"] == method and m.get("sessionId") == session:
                    return self._events.pop(i)
            self._events.append(self._read_message(deadline))

    def open(self, url, width=1280, height=900):
        """A new tab loading url; returns its Page once the load event fired."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(domain + ".enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        page.collect()
        return page


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session
        self.errors = []
        self.requests = []

    def collect(self):
        """Moves the events received so far into errors and requests."""
        keep = []
        for m in self.browser._events:
            if m.get("sessionId") != self.session:
                keep.append(m)
                continue
            p = m.get("params", {})
            if m["method"] == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                self.errors.append("exception: %s %s" % (
                    d.get("text", ""), d.get("exception", {}).get("description", "")))
            elif m["method"] == "Runtime.consoleAPICalled" and p["type"] in (
                    "error", "warning", "assert"):
                self.errors.append("console.%s: %s" % (p["type"], " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p["args"])))
            elif m["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                self.errors.append("log %s: %s" % (p["entry"]["level"], p["entry"]["text"]))
            elif m["method"] == "Network.requestWillBeSent":
                self.requests.append(p["request"]["url"])
        self.browser._events = keep

    def eval(self, expression):
        """The value of a JavaScript expression (JSON-able), awaited if a
        promise; a thrown exception raises BrowserError."""
        r = self.browser.send("Runtime.evaluate",
                              {"expression": expression, "returnByValue": True,
                               "awaitPromise": True}, session=self.session)
        self.collect()
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise BrowserError("%s: %s" % (d.get("text"),
                                           d.get("exception", {}).get("description")))
        return r["result"].get("value")

    def screenshot(self, path):
        import base64
        r = self.browser.send("Page.captureScreenshot", {"format": "png"},
                              session=self.session)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
