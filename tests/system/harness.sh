# shellcheck shell=bash disable=SC2034,SC2154
# tests/system/harness.sh - what test-packages.sh and test-trackle.sh share: the boot through
# nspawn-boot, PASS/FAIL accounting, running things in the container, polling with a
# deadline, the sandbox score of a unit. Sourced (". harness.sh"), not run; the sourcing
# script sets $here and defines diagnostics(), which section_end() calls after a section
# with a failure.

# harness_boot ARGS...: on the host (no $CEXEC) run the sourcing script again under
# nspawn-boot, which boots the container and exports CEXEC, ROOT, PAYLOAD, LEADER and
# MACHINE; in there, check the one argument and set DEB_DIR.
harness_boot() {
    if [ -z "${CEXEC:-}" ]; then
        [ $# -eq 1 ] || { echo "usage: $0 DEB_DIR" >&2; exit 2; }
        [ -d "$1" ] || { echo "$0: $1: not a directory" >&2; exit 2; }
        exec "$here/nspawn-boot" "$here/$(basename "$0")" "$(cd "$1" && pwd)"
    fi
    [ $# -eq 1 ] || { echo "usage: $0 DEB_DIR (under nspawn-boot)" >&2; exit 2; }
    DEB_DIR=$1
    : "${ROOT:?}" "${PAYLOAD:?}" "${MACHINE:?}"
}

PASSED=0 FAILED=0 SECTION_FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
info() { echo "      $*"; }
indent() { sed 's/^/      | /'; }
section() { echo; echo "== $*"; SECTION_FAILED=$FAILED; }
section_end() { [ "$FAILED" = "$SECTION_FAILED" ] || diagnostics; }
# check DESCRIPTION CMD...: PASS if CMD succeeds
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
finish() {
    echo
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ] || exit 1
    exit "${1:-0}"
}

c() { "$CEXEC" "$@"; }                               # run inside the container
capt() { "$CEXEC" env DEBIAN_FRONTEND=noninteractive "$@"; }

# poll CMD... until it succeeds or POLL_TIMEOUT seconds pass (never a blind sleep)
poll() {
    local deadline=$((SECONDS + POLL_TIMEOUT))
    while :; do
        "$@" && return 0
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

security_report() { c systemd-analyze security --offline=true --no-pager "$1" 2>&1; }
exposure_of() { sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$1"; }

# exposure_ok LABEL THRESHOLD OUTPUT: PASS if the overall exposure in OUTPUT (of
# systemd-analyze security) is at most THRESHOLD
exposure_ok() {
    local score; score=$(exposure_of "$3")
    if [ -z "$score" ]; then
        fail "systemd-analyze security $1: no score"; indent <<<"$3"
    elif awk -v s="$score" -v t="$2" 'BEGIN{exit !(s <= t)}'; then
        pass "systemd-analyze security $1: exposure $score <= $2"
    else
        fail "systemd-analyze security $1: exposure $score > $2"
    fi
}

# unit_sandbox SERVICE THRESHOLD UNIT...: SERVICE's exposure as shipped (offline) at most
# THRESHOLD, the settings that cost points, and systemd-analyze verify of the UNIT files
unit_sandbox() {
    local svc=$1 threshold=$2 out u files=(); shift 2
    out=$(security_report "$svc")
    exposure_ok "$svc" "$threshold" "$out"
    info "settings that cost points:"
    grep '^✗' <<<"$out" | sed 's/  \+/  /g' | indent
    for u in "$@"; do files+=("/lib/systemd/system/$u"); done
    if out=$(c systemd-analyze verify --man=no "${files[@]}" 2>&1); then
        pass "systemd-analyze verify $*${out:+ (said: $out)}"
    else
        fail "systemd-analyze verify $*"; indent <<<"$out"
    fi
}
