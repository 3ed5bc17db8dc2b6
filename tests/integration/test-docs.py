#!/usr/bin/env python3
"""Documentation that points somewhere must point at something that exists: every built
binary's --help names its own man page, and every man page it names (NAME(SECTION)) exists in
man/ with that section; every man page a man page names in SEE ALSO exists if it is ours; the
README links and refers only to files in the repository.
Usage: test-docs.py SOURCE-ROOT BINARY..."""

import os
import re
import subprocess
import sys

from harness import check, run_test

root, binaries = sys.argv[1], sys.argv[2:]
REF = re.compile(r"\b([a-z][a-z0-9._-]*)\(([1-8])\)")


def ours():
    """{name: section} of the man pages in man/ (NAME.SECTION.scd)."""
    pages = {}
    for f in os.listdir(os.path.join(root, "man")):
        m = re.fullmatch(r"(.+)\.([1-8])\.scd", f)
        if m:
            pages.setdefault(m.group(1), set()).add(m.group(2))
    return pages


def check_help(pages):
    for b in binaries:
        name = os.path.basename(b)
        r = subprocess.run([b, "--help"], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        text = r.stdout + r.stderr
        check(r.returncode == 0, f"{name} --help exits 0")
        refs = set(REF.findall(text))
        check(any(n == name for n, _ in refs), f"{name} --help names its own man page ({sorted(refs)})")
        for n, sec in sorted(refs):
            if n in pages or n.startswith("track") or n.startswith("nacct"):
                check(sec in pages.get(n, ()), f"{name} --help names {n}({sec}), and man/{n}.{sec}.scd exists")


def check_man(pages):
    """Our own pages that man pages refer to exist with that section."""
    for n, secs in sorted(pages.items()):
        for sec in secs:
            with open(os.path.join(root, "man", f"{n}.{sec}.scd")) as f:
                text = f.read()
            for rn, rs in sorted(set(REF.findall(text.replace("\\", "")))):
                if rn in pages or rn.startswith(("tracker", "trackerd", "trackle", "trackalert", "nacct")):
                    check(rs in pages.get(rn, ()), f"{n}({sec}) names {rn}({rs}), which exists")


def check_readme():
    path = os.path.join(root, "README.md")
    with open(path) as f:
        text = f.read()
    real_root = os.path.realpath(root)
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    # Code spans that name a document or script by its file name ("bench/README.md",
    # "../x/DESIGN.md", "./demo.sh"); installed paths (/usr/...) and commands are not files
    # of the tree.
    for span in re.findall(r"`([^`\n]+)`", text):
        for word in span.split():
            if re.fullmatch(r"(\.{1,2}/)*[\w.-]+(/[\w.-]+)*\.(md|txt|sh|ini|scd)", word):
                targets.append(word)
    check(targets, "README refers to files")
    for t in targets:
        if re.match(r"[a-z]+://", t) or t.startswith("#") or t.startswith("mailto:"):
            check(False, f"README links only to files in the repository, not to {t}")
            continue
        p = os.path.realpath(os.path.join(root, t.split("#")[0]))
        inside = p == real_root or p.startswith(real_root + os.sep)
        check(inside and os.path.exists(p), f"README's '{t}' is a file in the repository")


def main(tmp):
    pages = ours()
    check(len(pages) > 10, f"man pages found ({len(pages)})")
    check(len(binaries) >= 10, f"binaries to check ({len(binaries)})")
    check_help(pages)
    check_man(pages)
    check_readme()


run_test(main)
