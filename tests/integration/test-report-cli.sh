#!/bin/bash
# test-report-cli.sh - tracker-report's command line: help, usage errors (exit 2) and database
# errors (exit 1) with clear messages. The queries themselves are covered by
# tests/unit/tracker/test-report.c. Usage: test-report-cli.sh PATH-TO-tracker-report
set -euo pipefail

report=${1:?usage: $0 PATH-TO-tracker-report}
[[ -x $report ]] || { echo "skipped: '$report' is not executable"; exit 77; }

tmp=$(mktemp -d /tmp/test-report-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect STATUS PATTERN ARGS...: run the tool, check its exit status and that stdout+stderr
# match the extended regular expression PATTERN.
expect() {
        local want=$1 pattern=$2 out rc=0
        shift 2
        out=$(env -u STATE_DIRECTORY TRACKSUITE_LOG_TARGET=console timeout 60 "$report" "$@" 2>&1) || rc=$?
        if [[ $rc -ne $want ]] || ! grep -Eq -- "$pattern" <<<"$out"; then
                echo "FAIL: tracker-report $*: exit $rc (want $want), output:"
                # shellcheck disable=SC2001
                sed 's/^/    /' <<<"$out"
                failures=$((failures + 1))
        else
                echo "ok: tracker-report $* -> $rc"
        fi
}

expect 0 '^Usage: tracker-report' --help
expect 0 'unused.*--since or --days' -h
expect 0 '^tracker-report \(tracksuite\) [0-9]' --version

# Usage errors: exit 2, and say what is wrong.
expect 2 "Invalid date '2026-02-30' for --since" --since 2026-02-30
expect 2 "Invalid date '2026-1-01' for --until" users --until 2026-1-01
expect 2 "Invalid date 'yesterday' for --since" unused --since yesterday
expect 2 "Invalid --days 'x'" unused --days x
expect 2 "Invalid --days '-1'" unused --days -1
expect 2 "is after --until" --since 2026-05-02 --until 2026-05-01
expect 2 "Unknown command 'bogus'" bogus
expect 2 'daily needs the name of a program' daily
expect 2 "Unexpected argument 'extra'" programs extra
expect 2 'unused needs --since or --days' unused
expect 2 'cannot be combined' unused --since 2026-01-01 --days 3
expect 2 'only apply to unused' programs --days 3
expect 2 'only apply to unused' users --tracked /dev/null
expect 2 'do not apply to rejects' rejects --since 2026-01-01
expect 2 '--host does not apply to unused' unused --days 3 --host ws1
expect 2 '--host does not apply to rejects' rejects --host ws1
expect 2 "Unexpected argument 'extra'" users vim extra
expect 2 '--host needs a host name' --host ''
expect 0 'users \[PROGRAM\]' --help
expect 2 '--json and --csv cannot be combined' --json --csv
expect 2 'unrecognized option' --no-such-option

# Database errors: exit 1 with a clear message. Usage is checked before the database is opened.
expect 1 "No database at '$tmp/missing.db' \(is trackerd running\?\)" --db "$tmp/missing.db"
expect 1 "No database at '$tmp/state/tracker.db'" --db "$tmp/state/tracker.db" rejects
expect 2 'Invalid date' --db "$tmp/missing.db" --since 2026-13-01
expect 1 "'$tmp' is a directory, not a tracker database" --db "$tmp"
# A FIFO (with a writer that never writes) is refused at once, never waited on.
mkfifo "$tmp/fifo.db"
exec 9<>"$tmp/fifo.db"
expect 1 "'$tmp/fifo.db' is a FIFO, not a tracker database" --db "$tmp/fifo.db"
exec 9>&-
printf 'this is not sqlite, just text that is long enough to fill a header....\n' >"$tmp/junk.db"
expect 1 "'$tmp/junk.db' is not a tracker database" --db "$tmp/junk.db"
printf 'vim\n/usr/bin/\n' >"$tmp/tracked"
expect 1 "$tmp/tracked:2: not a program name or path" --db "$tmp/missing.db" unused --days 1 \
        --tracked "$tmp/tracked"
expect 1 "Failed to read '$tmp/none'" --db "$tmp/missing.db" unused --days 1 -t "$tmp/none"

# $STATE_DIRECTORY (first entry) when --db is absent.
mkdir -p "$tmp/state"
out=$(STATE_DIRECTORY="$tmp/state:/elsewhere" "$report" rejects 2>&1) && rc=0 || rc=$?
if [[ $rc -eq 1 && $out == *"No database at '$tmp/state/tracker.db'"* ]]; then
        echo "ok: \$STATE_DIRECTORY/tracker.db is the default"
else
        echo "FAIL: \$STATE_DIRECTORY not honoured: exit $rc: $out"
        failures=$((failures + 1))
fi

if command -v sqlite3 >/dev/null; then
        sqlite3 "$tmp/old.db" 'PRAGMA user_version = 0; CREATE TABLE t (x);'
        expect 1 'schema older than this tool; start trackerd once to upgrade it' --db "$tmp/old.db"
        sqlite3 "$tmp/new.db" 'PRAGMA user_version = 999; CREATE TABLE t (x);'
        expect 1 'schema newer than this tool' --db "$tmp/new.db" rejects
        if [[ $(id -u) -ne 0 ]]; then
                cp "$tmp/old.db" "$tmp/private.db"
                chmod 000 "$tmp/private.db"
                expect 1 "Permission denied reading database '$tmp/private.db'" \
                        --db "$tmp/private.db"
        fi
else
        echo "note: sqlite3(1) not found, schema version checks not run"
fi

if [[ $failures -gt 0 ]]; then
        echo "$failures check(s) failed"
        exit 1
fi
echo "all checks passed"
