"""tmux_pane.py - drive a program in a tmux pane: keys in, screen text out, waits with a
deadline (never a fixed sleep)."""

import subprocess
import time


class Pane:
    def __init__(self, run_as, socket, width=100, height=30):
        """run_as(shell_command) runs a command as the user who owns the tmux server."""
        self.run_as = run_as
        self.socket = socket
        self.width, self.height = width, height

    def tmux(self, *args):
        cmd = "tmux -S " + " ".join(_q(a) for a in [self.socket] + list(args))
        return self.run_as(cmd)

    def start(self, command, env=None):
        args = ["new-session", "-d", "-x", str(self.width), "-y", str(self.height)]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        r = self.tmux(*args, command)
        if r.rc != 0:
            raise RuntimeError(f"tmux new-session failed: {r}")
        # the pane keeps its last screen when the program ends
        self.tmux("set-option", "-g", "remain-on-exit", "on")

    def keys(self, *keys, literal=False):
        args = ["send-keys", "-t", "0"] + (["-l"] if literal else []) + list(keys)
        r = self.tmux(*args)
        if r.rc != 0:
            raise RuntimeError(f"tmux send-keys failed: {r}")

    def type(self, text):
        self.keys(text, literal=True)

    def screen(self, escapes=False):
        r = self.tmux("capture-pane", "-p", "-t", "0", *(["-e"] if escapes else []))
        return r.stdout

    def wait(self, predicate, what, timeout=20.0):
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            last = self.screen()
            ok = predicate(last) if callable(predicate) else predicate in last
            if ok:
                return last
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}; "
                                   f"screen:\n{last}")
            time.sleep(0.05)

    def pane_pid(self):
        r = self.tmux("list-panes", "-t", "0", "-F", "#{pane_pid}")
        return int(r.stdout.strip())

    def dead(self):
        r = self.tmux("list-panes", "-t", "0", "-F", "#{pane_dead}")
        return r.stdout.strip() == "1"

    def kill(self):
        self.tmux("kill-server")


def _q(s):
    import shlex
    return shlex.quote(str(s))
