#!/bin/bash
# test.sh - on a fresh Debian 12 machine, as root: install dependencies, build with warnings
# as errors and ASan/UBSan, and run every test suite. Ends with "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

tools/dev/install-deps

build=${BUILD_DIR:-build-test}
# A directory left by an interrupted setup is not a build tree: start it afresh.
[ -f "$build/meson-private/coredata.dat" ] || rm -rf "$build"
if [ -d "$build" ]; then
        meson setup --reconfigure --native-file build-dev.ini "$build" > "$build.setup.log" ||
                { cat "$build.setup.log"; exit 1; }
else
        meson setup --native-file build-dev.ini "$build" > "$build.setup.log" ||
                { cat "$build.setup.log"; exit 1; }
fi
ninja -C "$build"

rc=0
meson test -C "$build" --print-errorlogs --num-processes "$(nproc)" "$@" || rc=$?

# One closing line that any CI can read, from meson's machine-readable log.
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        counts["passed"] += 1
    elif r == "SKIP":
        counts["skipped"] += 1
    else:
        counts["failed"] += 1
print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
PY
exit $rc
