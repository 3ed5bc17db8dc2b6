"""webdriver.py - a real headless Chromium driven through chromedriver's W3C WebDriver protocol,
with nothing but the standard library (http.client).

    with Browser(artifacts_dir) as b:
        b.get("http://127.0.0.1:8087/newticket")
        b.type("#f-summary", "text")
        b.click("button[type=submit]")
        b.screenshot("newticket")        # PNG in artifacts_dir
        b.script("return window.__xss")  # JavaScript in the page
"""

import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(Exception):
    pass


def find(paths):
    for p in paths:
        if os.access(p, os.X_OK):
            return p
    return None


def missing():
    """Why the browser tests cannot run here, or None."""
    if not find(CHROMIUM):
        return "chromium is not installed (Debian: apt-get install chromium)"
    if not find(CHROMEDRIVER):
        return "chromedriver is not installed (Debian: apt-get install chromium-driver)"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, artifacts, width=1200, height=900):
        self.artifacts = artifacts
        os.makedirs(artifacts, exist_ok=True)
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="trackle-chromium-")
        self.log = open(os.path.join(artifacts, "chromedriver.log"), "ab")
        self.driver = subprocess.Popen(
            [find(CHROMEDRIVER), f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._call("GET", "/status").get("ready"):
                    break
            except (OSError, WebDriverError):
                pass
            if self.driver.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise WebDriverError("chromedriver did not become ready")
            time.sleep(0.05)
        args = ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", f"--user-data-dir={self.profile}",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-sync", "--lang=en-US"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": find(CHROMIUM), "args": args}}}}
        try:
            self.session = self._call("POST", "/session", caps)["sessionId"]
        except Exception:
            self.close()
            raise

    def _call(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            data = json.dumps(body).encode() if body is not None else None
            c.request(method, path, body=data,
                      headers={"Content-Type": "application/json"} if data else {})
            r = c.getresponse()
            out = json.loads(r.read() or b"{}")
        finally:
            c.close()
        value = out.get("value")
        if r.status != 200:
            raise WebDriverError(f"{method} {path}: {r.status} {value}")
        return value

    def _s(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def close(self):
        if getattr(self, "session", None):
            try:
                self._call("DELETE", f"/session/{self.session}")
            except Exception:
                pass
            self.session = None
        if self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(30)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # navigation and the page
    def get(self, url):
        self._s("POST", "/url", {"url": url})

    @property
    def url(self):
        return self._s("GET", "/url")

    @property
    def title(self):
        return self._s("GET", "/title")

    @property
    def source(self):
        return self._s("GET", "/source")

    def script(self, code, *args):
        return self._s("POST", "/execute/sync", {"script": code, "args": list(args)})

    def screenshot(self, name):
        png = base64.b64decode(self._s("GET", "/screenshot"))
        path = os.path.join(self.artifacts, f"{name}.png")
        with open(path, "wb") as f:
            f.write(png)
        return path

    # elements
    def find(self, css):
        return self._s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css):
        return [e[ELEMENT] for e in
                self._s("POST", "/elements", {"using": "css selector", "value": css})]

    def link(self, text):
        return self._s("POST", "/element", {"using": "link text", "value": text})[ELEMENT]

    def type(self, css, text, clear=True):
        e = self.find(css)
        if clear:
            self._s("POST", f"/element/{e}/clear", {})
        self._s("POST", f"/element/{e}/value", {"text": text})

    def click(self, css=None, element=None):
        e = element or self.find(css)
        self._s("POST", f"/element/{e}/click", {})

    def text(self, css):
        return self._s("GET", f"/element/{self.find(css)}/text")

    def text_now(self, css):
        """The element's text, or "" while the page is changing (for polling after a submit)."""
        try:
            return self.text(css)
        except WebDriverError:
            return ""

    def select(self, css, value):
        """Choose the option of a <select> whose text is value."""
        self.script("const s = document.querySelector(arguments[0]);"
                    "for (const o of s.options) if (o.text === arguments[1]) o.selected = true;",
                    css, value)
