#!/usr/bin/env python3
"""Redaction: files matching the redaction list (the built-in one: `*.key`,
`/etc/ssl/private/*`, ...) keep sha256, size and metadata only: `redacted: true`, no diff, and
the secret appears nowhere: not in `trackle session show --json`, not in `trackle session diff`,
not in the bytes of the database file (and its WAL). A non-secret file in the same session is
stored, and its marker is found in the database bytes: the grep is not vacuous.
Both paths are covered: a non-root writer (the library passes an fd) and a root writer through
sudo (trackled reads the file itself)."""

import os

import tk_harness as tk
from tk_harness import q, sha256, write

OLD = "tk-e2e-OLD-SECRET-7f3a9c"
NEW = "tk-e2e-NEW-SECRET-b81d04"
ROOT = "tk-e2e-ROOT-SECRET-5e6f7a"
PLAIN = "tk-e2e-plain-marker-29c1e"


def main(t):
    pw = t.pw(t.admin)
    own = (pw.pw_uid, pw.pw_gid)
    d = os.path.join(t.scratch, "redact")
    os.mkdir(d)
    os.chown(d, *own)
    key = write(os.path.join(d, "server.key"), f"-----BEGIN KEY-----\n{OLD}\n", 0o600, own)
    newkey = os.path.join(d, "new.key")
    write(os.path.join(d, "plain.conf"), "plain\n", 0o644, own)
    sfx = t.admin[3:]
    os.makedirs("/etc/ssl/private", exist_ok=True)
    rootsec = f"/etc/ssl/private/tk-e2e-{sfx}.pem"
    write(rootsec, "old root secret\n", 0o600, (0, 0))

    # the secrets come from files the session only reads (a secret typed on the command line
    # is in the command log, which is not what this test is about)
    src = os.path.join(t.tmp, "src")
    os.mkdir(src, 0o755)
    write(os.path.join(src, "key"), f"-----BEGIN KEY-----\n{NEW}\n", 0o644)
    write(os.path.join(src, "new"), f"{NEW}\n", 0o644)
    write(os.path.join(src, "root"), f"{ROOT}\n", 0o644)
    write(os.path.join(src, "plain"), f"{PLAIN}\n", 0o644)
    commands = (f"cat {src}/key > server.key; cat {src}/new > new.key; "
                f"cat {src}/plain >> plain.conf; sudo tee {q(rootsec)} < {src}/root >/dev/null")
    r = t.shell(commands, cwd=d)
    tk.check(r.rc == 0 and r.id, f"the session ran ({r.rc})")
    s = t.show(r.id)
    text = t.tool("session", "show", r.id, "--json").stdout

    for path, before, after, what in (
            (key, f"-----BEGIN KEY-----\n{OLD}\n", f"-----BEGIN KEY-----\n{NEW}\n", "*.key modified"),
            (newkey, None, f"{NEW}\n", "*.key created"),
            (rootsec, "old root secret\n", f"{ROOT}\n", "/etc/ssl/private/* via sudo")):
        f = t.file(s, path)
        if not t.expect(f is not None, f"{what}: listed", t.paths(s)):
            continue
        t.expect(f.get("redacted") is True, f"{what}: redacted is true", f)
        t.expect(f.get("diff") is None, f"{what}: diff is null", f)
        for side, content in (("before", before), ("after", after)):
            v = f.get(side)
            if content is None:
                t.expect(v is None, f"{what}: {side} null")
                continue
            t.expect(isinstance(v, dict) and v.get("sha256") == sha256(content)
                     and v.get("size") == len(content.encode()),
                     f"{what}: {side} has the sha256 and size", v)
            extra = set(v or {}) - {"sha256", "size", "mode", "uid", "gid"}
            t.expect(not extra, f"{what}: {side} has no other field (no content)", extra)

    for secret in (OLD, NEW, ROOT):
        t.expect(secret not in text, f"{secret} is not in `trackle session show --json`")
    r2 = t.tool("session", "diff", r.id, check_rc=False)
    t.expect(r2.rc == 0, "trackle session diff ran", r2)
    for secret in (OLD, NEW, ROOT):
        t.expect(secret not in r2.stdout + r2.stderr, f"{secret} is not in `trackle session diff`")
    t.expect(PLAIN in r2.stdout, "the plain file's change is in `trackle session diff`",
             r2.stdout[:2000])

    # the database bytes (after trackled wrote everything: the session has ended)
    raw = t.trackled.db_bytes()
    t.expect(PLAIN.encode() in raw, "control: the plain file's new content is in the database "
             "bytes (so the grep below means something)")
    for secret in (OLD, NEW, ROOT):
        t.expect(secret.encode() not in raw, f"{secret} is not in the database file")
    # and stopping trackled (checkpointing the WAL) does not bring it in
    t.trackled.stop()
    raw = t.trackled.db_bytes()
    for secret in (OLD, NEW, ROOT):
        t.expect(secret.encode() not in raw, f"{secret} is not in the database after a checkpoint")
    os.unlink(rootsec)


tk.run(main, needs=("sudo", "tee"))
