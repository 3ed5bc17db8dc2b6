#!/usr/bin/env python3
"""test-catalog.py - every MESSAGE_ID trackalert logs has an entry in catalog/trackalert.catalog,
and journalctl accepts the file (--update-catalog in a scratch root, when journalctl exists)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

ids_h, catalog = sys.argv[1], sys.argv[2]
ids = dict((v, k) for k, v in re.findall(r'#define (TRACKALERT_MID_\w+) "([0-9a-f]{32})"',
                                         open(ids_h).read()))
text = open(catalog).read()
entries = re.findall(r"^-- ([0-9a-f]{32})\n(.*?)(?=^-- |\Z)", text, re.M | re.S)
failed = 0
for mid, name in ids.items():
    if mid not in dict(entries):
        print(f"FAIL: {name} ({mid}) has no catalog entry")
        failed += 1
for mid, body in entries:
    if mid not in ids:
        print(f"FAIL: catalog entry {mid} is not a trackalert MESSAGE_ID")
        failed += 1
    for key in ("Subject: ", "Defined-By: tracksuite", "Documentation: man:"):
        if key not in body:
            print(f"FAIL: entry {mid} lacks '{key}'")
            failed += 1
print(f"{len(ids)} MESSAGE_IDs, {len(entries)} catalog entries")

journalctl = shutil.which("journalctl")
if journalctl:
    with tempfile.TemporaryDirectory() as root:
        d = os.path.join(root, "usr/lib/systemd/catalog")
        os.makedirs(d)
        os.makedirs(os.path.join(root, "var/lib/systemd/catalog"))
        shutil.copy(catalog, d)
        r = subprocess.run([journalctl, f"--root={root}", "--update-catalog"],
                           capture_output=True, text=True)
        listed = subprocess.run([journalctl, f"--root={root}", "--list-catalog"],
                                capture_output=True, text=True).stdout
        if r.returncode != 0 or r.stderr.strip():
            print(f"FAIL: journalctl --update-catalog: {r.stderr.strip()}")
            failed += 1
        for mid in ids:
            if f"{mid} tracksuite: " not in listed:
                print(f"FAIL: journalctl does not list {mid}")
                failed += 1
sys.exit(1 if failed else 0)
