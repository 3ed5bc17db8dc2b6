#!/bin/bash
# test-packages.sh - the 'system' suite: install the built tracksuite .debs with apt in a
# booted systemd container and check the real thing: tracker.socket enabled and listening,
# socket activation of trackerd, the journal entry and the database for a wrapped program
# run by an ordinary user, the sandbox score, wrappers across upgrades, program moves
# (/bin -> /usr/bin) and removal of the wrapped package, and a clean purge.
#
#   tests/system/test-packages.sh DEB_DIR
#
# DEB_DIR holds tracksuite-tracker_*.deb and tracksuite-trackerd_*.deb (debian/build-deb.sh
# writes them). Run as root. Without $CEXEC in the environment the script runs itself
# through tests/system/nspawn-boot (which boots the container, exports CEXEC, ROOT,
# PAYLOAD, LEADER and MACHINE, and tears it down); everything below runs on the host and
# reaches into the container with $CEXEC.
#
# Without tracksuite .debs in DEB_DIR only the harness checks run (apt inside the
# container, the test packages) and the script exits 77.
#
# Output: one "PASS: ..." or "FAIL: ..." line per check, then "N passed, N failed".
# Exit status: 0 all passed, 1 something failed, 77 skipped.
# Environment: SECURITY_THRESHOLD=1.5 (highest acceptable systemd-analyze security
# exposure for trackerd.service), POLL_TIMEOUT=20 (seconds to wait for the journal and
# the database), WRAP_PROG=/usr/bin/uptime (a program of a non-Essential package in the
# container to wrap for the user test).
# (pipefail: a pipeline into "grep -q" could fail on SIGPIPE; use grep >/dev/null)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CEXEC:-}" ]; then
    [ $# -eq 1 ] || { echo "usage: $0 DEB_DIR" >&2; exit 2; }
    [ -d "$1" ] || { echo "$0: $1: not a directory" >&2; exit 2; }
    exec "$here/nspawn-boot" "$here/$(basename "$0")" "$(cd "$1" && pwd)"
fi
[ $# -eq 1 ] || { echo "usage: $0 DEB_DIR (under nspawn-boot)" >&2; exit 2; }
DEB_DIR=$1
: "${ROOT:?}" "${PAYLOAD:?}" "${MACHINE:?}"

SECURITY_THRESHOLD=${SECURITY_THRESHOLD:-1.5}
POLL_TIMEOUT=${POLL_TIMEOUT:-20}
WRAP_PROG=${WRAP_PROG:-/usr/bin/uptime}
SHIM=/usr/libexec/tracksuite/tracker
MID_USE=e688de04482249208925797f3265cdb8
DB=/var/lib/tracksuite/tracker/tracker.db

PASSED=0 FAILED=0 SECTION_FAILED=0
pass() { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }
info() { echo "      $*"; }
indent() { sed 's/^/      | /'; }
section() { echo; echo "== $*"; SECTION_FAILED=$FAILED; }
# check DESCRIPTION CMD...: PASS if CMD succeeds
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

c() { "$CEXEC" "$@"; }                               # run inside the container
capt() { "$CEXEC" env DEBIAN_FRONTEND=noninteractive "$@"; }
as_alice() { "$CEXEC" runuser -u alice -- "$@"; }

# poll CMD... until it succeeds or POLL_TIMEOUT seconds pass (never a blind sleep)
poll() {
    local deadline=$((SECONDS + POLL_TIMEOUT))
    while :; do
        "$@" && return 0
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

diagnostics() {
    echo "---- diagnostics (container $MACHINE)"
    { c systemctl status --no-pager --lines=0 tracker.socket trackerd.service 2>&1
      echo "-- journalctl -u tracker.socket -u trackerd (last 40)"
      c journalctl --no-pager -u tracker.socket -u trackerd -n 40 -o short-monotonic 2>&1
      echo "-- dpkg-divert --list '*'"; c dpkg-divert --list 2>&1 | grep -v '^diversion of /usr/share' 
      echo "-- tracker-wrap list"; c tracker-wrap list 2>&1
      echo "-- tracked.d"; c sh -c 'head -50 /etc/tracksuite/tracked.d/* 2>&1'
      echo "-- wrapped files"; c sh -c 'ls -l /usr/bin/*.t% /usr/sbin/*.t% 2>/dev/null; find /usr/bin /usr/sbin -maxdepth 1 -lname "*tracksuite*" -exec ls -l {} + 2>/dev/null'
      echo "-- dpkg -l 'tracksuite*'"; c dpkg -l 'tracksuite*' 2>&1 | tail -n +6
      echo "-- systemctl --failed"; c systemctl --failed --no-legend 2>&1
    } | indent
    echo "----"
}
section_end() { [ "$FAILED" = "$SECTION_FAILED" ] || diagnostics; }

finish() {
    echo
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" = 0 ] || exit 1
    exit "${1:-0}"
}

# ---------------------------------------------------------------- helpers for the checks
journal_has() {   # journal_has UNIT PATTERN: a -o cat line of UNIT contains PATTERN
    c journalctl --no-pager -u "$1" -o cat 2>/dev/null | grep -F -- "$2" >/dev/null
}
journal_count() { c journalctl --no-pager -u "$1" -o cat 2>/dev/null | grep -cF -- "$2"; }
journal_at_least() { [ "$(journal_count "$1" "$2")" -ge "$3" ]; }

# the structured fields of a use: an entry of trackerd with MESSAGE_ID, TRACKER_USER and
# TRACKER_PROGRAM (export format: FIELD=value lines, a blank line between entries)
journal_use_entry() {   # journal_use_entry USER PROGRAM
    c journalctl --no-pager -u trackerd -o export 2>/dev/null | awk -v u="$1" -v p="$2" -v m="$MID_USE" '
        /^$/ { if (mu && uu && pp) found = 1; mu = uu = pp = 0; next }
        $0 == "MESSAGE_ID=" m { mu = 1 }
        $0 == "TRACKER_USER=" u { uu = 1 }
        index($0, "TRACKER_PROGRAM=") == 1 { v = substr($0, 17); n = split(v, a, "/"); if (v == p || a[n] == p) pp = 1 }
        END { if (mu && uu && pp) found = 1; exit !found }'
}

report_lists() {   # report_lists PROGRAM: tracker-report programs has a row for PROGRAM
    c tracker-report --db "$DB" programs 2>/dev/null | grep -w -- "$1" >/dev/null
}

is_shim_link() { [ "$(c readlink -f "$1" 2>/dev/null)" = "$SHIM" ]; }

# the recorded path of an executable in the package's file list (without diversion notes)
dpkg_path_of() { c dpkg-query -L "$1" 2>/dev/null | grep -E "^/.*/$2\$" | head -1; }

port_1738_open() { [ -n "$(c ss -H -uln 'sport = :1738' 2>/dev/null)" ]; }

security_report() { c systemd-analyze security --offline=true --no-pager "$1" 2>&1; }
exposure_of() { sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$1"; }

build_testdeb() {   # build_testdeb PACKAGE VERSION PATH: a package shipping one script
    local name=$1 ver=$2 path=$3 d
    d=$(mktemp -d "${TMPDIR:-/tmp}/tsdeb.XXXXXX")
    mkdir -p "$d/DEBIAN" "$d$(dirname "$path")"
    printf '#!/bin/sh\necho "%s %s"\n' "$name" "$ver" >"$d$path"
    chmod 755 "$d$path"
    cat >"$d/DEBIAN/control" <<EOF
Package: $name
Version: $ver
Architecture: all
Maintainer: tracksuite tests <tracksuite@example.org>
Section: misc
Priority: optional
Description: tracksuite system test package
 Ships $path, a script that prints its version.
EOF
    dpkg-deb --root-owner-group -Zgzip --build "$d" "$PAYLOAD/${name}_${ver}_all.deb" >/dev/null
    local rc=$?
    rm -rf "$d"
    return $rc
}

apt_install() {   # apt_install DESCRIPTION DEB_OR_PKG...: offline apt-get install
    local d=$1 out; shift
    if out=$(capt apt-get install -y -q --no-install-recommends "$@" 2>&1); then
        pass "$d"; return 0
    fi
    fail "$d"; tail -25 <<<"$out" | indent; return 1
}

# ---------------------------------------------------------------- payload
section "payload"
TRACKER_DEB=$(ls "$DEB_DIR"/tracksuite-tracker_*.deb 2>/dev/null | sort -V | tail -1)
TRACKERD_DEB=$(ls "$DEB_DIR"/tracksuite-trackerd_*.deb 2>/dev/null | sort -V | tail -1)
HAVE_DEBS=0
if [ -n "$TRACKER_DEB" ] && [ -n "$TRACKERD_DEB" ]; then
    HAVE_DEBS=1
    cp "$TRACKER_DEB" "$TRACKERD_DEB" "$PAYLOAD/"
    info "tracksuite packages: $(basename "$TRACKER_DEB") $(basename "$TRACKERD_DEB")"
else
    info "no tracksuite-tracker_*.deb and tracksuite-trackerd_*.deb in $DEB_DIR: harness checks only"
fi
check "build the test packages (tracksuite-testprog 1.0/2.0, tracksuite-mover 1.0/2.0)" eval '
    build_testdeb tracksuite-testprog 1.0 /usr/bin/tracksuite-testprog &&
    build_testdeb tracksuite-testprog 2.0 /usr/bin/tracksuite-testprog &&
    build_testdeb tracksuite-mover 1.0 /bin/tracksuite-mover &&
    build_testdeb tracksuite-mover 2.0 /usr/bin/tracksuite-mover'
info "container $MACHINE: $(c sh -c '. /etc/os-release; echo "$PRETTY_NAME"'), $(c systemctl --version | head -1)"
check "useradd -m alice" c useradd -m -s /bin/sh alice

if [ "$HAVE_DEBS" = 0 ]; then
    # harness self-check: offline apt in the container, upgrade of a local package
    section "harness (no tracksuite packages)"
    apt_install "apt-get install tracksuite-testprog 1.0 (offline)" /payload/tracksuite-testprog_1.0_all.deb
    check "runs as alice: prints 1.0" eval '[ "$(as_alice tracksuite-testprog)" = "tracksuite-testprog 1.0" ]'
    apt_install "apt-get install tracksuite-testprog 2.0 (upgrade)" /payload/tracksuite-testprog_2.0_all.deb
    check "prints 2.0 after the upgrade" eval '[ "$(as_alice tracksuite-testprog)" = "tracksuite-testprog 2.0" ]'
    apt_install "apt-get install tracksuite-mover 1.0 (/bin)" /payload/tracksuite-mover_1.0_all.deb
    apt_install "apt-get install tracksuite-mover 2.0 (/usr/bin)" /payload/tracksuite-mover_2.0_all.deb
    check "dpkg records /usr/bin/tracksuite-mover after the move" \
        eval '[ "$(dpkg_path_of tracksuite-mover tracksuite-mover)" = /usr/bin/tracksuite-mover ]'
    check "apt-get remove tracksuite-testprog tracksuite-mover" \
        eval 'capt apt-get remove -y -q tracksuite-testprog tracksuite-mover >/dev/null 2>&1'
    check "systemd-analyze security --offline=true works in the container" \
        eval '[ -n "$(exposure_of "$(security_report systemd-journald.service)")" ]'
    echo "SKIP: tracksuite checks: no tracksuite .debs in $DEB_DIR"
    finish 77
fi

# ---------------------------------------------------------------- install
section "install"
if ! apt_install "apt-get install $(basename "$TRACKER_DEB") $(basename "$TRACKERD_DEB") (offline)" \
        "/payload/$(basename "$TRACKER_DEB")" "/payload/$(basename "$TRACKERD_DEB")"; then
    info "dependencies of the packages (must be in the cached rootfs, see INCLUDE_PKGS in nspawn-boot):"
    dpkg-deb -f "$TRACKER_DEB" Depends | indent
    dpkg-deb -f "$TRACKERD_DEB" Depends | indent
    diagnostics
    finish
fi
check "dpkg: both packages installed and configured (ii)" eval '
    [ "$(c dpkg-query -W -f="\${db:Status-Abbrev}" tracksuite-tracker tracksuite-trackerd)" = "ii ii " ]'
st=$(c systemctl is-enabled tracker.socket 2>&1)
check "tracker.socket is-enabled = enabled (got '$st')" [ "$st" = enabled ]
st=$(c systemctl is-active tracker.socket 2>&1)
check "tracker.socket is-active = active (got '$st')" [ "$st" = active ]
st=$(c systemctl is-active trackerd.service 2>&1)
check "trackerd.service inactive before any datagram (got '$st')" [ "$st" = inactive ]
st=$(c systemctl is-enabled trackerd.service 2>&1)
info "trackerd.service is-enabled: $st"
if port_1738_open; then pass "UDP port 1738 is listening (ss -uln)"; c ss -uln 'sport = :1738' | indent
else fail "UDP port 1738 is listening (ss -uln)"; c ss -ulnp | indent; fi
check "the shim is installed at $SHIM" c test -x "$SHIM"
check "the shim is not on PATH (no /usr/bin/tracker from us)" eval '! c dpkg -S /usr/bin/tracker >/dev/null 2>&1'
check "tracker-wrap is installed" c test -x /usr/sbin/tracker-wrap
section_end

# ---------------------------------------------------------------- units
section "units"
SECURITY_OUT=$(security_report trackerd.service)
score=$(exposure_of "$SECURITY_OUT")
if [ -z "$score" ]; then
    fail "systemd-analyze security --offline=true trackerd.service: no score"; indent <<<"$SECURITY_OUT"
elif awk -v s="$score" -v t="$SECURITY_THRESHOLD" 'BEGIN{exit !(s <= t)}'; then
    pass "systemd-analyze security trackerd.service: exposure $score <= $SECURITY_THRESHOLD"
else
    fail "systemd-analyze security trackerd.service: exposure $score > $SECURITY_THRESHOLD"
fi
info "settings that cost points:"
grep '^✗' <<<"$SECURITY_OUT" | sed 's/  \+/  /g' | indent
if out=$(c systemd-analyze verify --man=no /lib/systemd/system/tracker.socket /lib/systemd/system/trackerd.service 2>&1); then
    pass "systemd-analyze verify tracker.socket trackerd.service${out:+ (said: $out)}"
else
    fail "systemd-analyze verify tracker.socket trackerd.service"; indent <<<"$out"
fi
for m in man8/trackerd.8 man5/trackerd.conf.5 man1/tracker-report.1 man8/tracker-wrap.8 man1/tracker.1; do
    check "Documentation: /usr/share/man/$m.gz installed" c test -f "/usr/share/man/$m.gz"
done
check "journal catalog entry for the use MESSAGE_ID" eval 'c journalctl --list-catalog 2>/dev/null | grep "^$MID_USE tracksuite: " >/dev/null'
section_end

# ---------------------------------------------------------------- a wrapped program, run by alice
section "wrapped program run by an ordinary user"
prog=$(basename "$WRAP_PROG")
check "collector: /etc/tracksuite/tracker.conf Server=127.0.0.1" \
    c sh -c 'printf "[Tracker]\nServer=127.0.0.1\n" >/etc/tracksuite/tracker.conf'
if out=$(c tracker-wrap add "$WRAP_PROG" 2>&1); then pass "tracker-wrap add $WRAP_PROG${out:+ (said: $out)}"
else fail "tracker-wrap add $WRAP_PROG"; indent <<<"$out"; fi
check "$WRAP_PROG is a symlink to the shim" is_shim_link "$WRAP_PROG"
check "$WRAP_PROG.t% is the real program" c test -f "$WRAP_PROG.t%"
check "diversion of $WRAP_PROG by tracksuite-tracker" \
    eval '[ "$(c dpkg-divert --listpackage "$WRAP_PROG")" = tracksuite-tracker ]'
if out=$(as_alice "$prog" 2>&1); then pass "runuser -u alice -- $prog: '$out'"
else fail "runuser -u alice -- $prog exited non-zero: $out"; fi
if poll journal_has trackerd "alice@$MACHINE $prog"; then
    pass "journalctl -u trackerd: 'alice@$MACHINE $prog'"
    c journalctl --no-pager -u trackerd -o cat | grep -F "alice@" | indent
else
    fail "journalctl -u trackerd: no 'alice@$MACHINE $prog' within ${POLL_TIMEOUT}s"
fi
check "journal entry has MESSAGE_ID=$MID_USE, TRACKER_USER=alice, TRACKER_PROGRAM=$prog" \
    journal_use_entry alice "$prog"
check "journalctl -x explains the entry with the catalog text" \
    eval 'c journalctl --no-pager -x -u trackerd 2>/dev/null | grep "Tracked program $prog run by alice" >/dev/null'
st=$(c systemctl is-active trackerd.service 2>&1)
check "trackerd.service was socket-activated (is-active = $st)" [ "$st" = active ]
info "state directory: $(c ls -ld /var/lib/tracksuite/tracker /var/lib/private/tracksuite/tracker 2>&1 | tr '\n' ';')"
if poll report_lists "$prog"; then
    pass "tracker-report --db $DB programs lists $prog"
    c tracker-report --db "$DB" programs | indent
else
    fail "tracker-report --db $DB programs lists $prog within ${POLL_TIMEOUT}s"
    c tracker-report --db "$DB" programs 2>&1 | indent
fi
section_end

# ---------------------------------------------------------------- upgrade of a wrapped package
section "upgrade of a wrapped package"
P=/usr/bin/tracksuite-testprog
apt_install "apt-get install tracksuite-testprog 1.0" /payload/tracksuite-testprog_1.0_all.deb
if out=$(c tracker-wrap add "$P" 2>&1); then pass "tracker-wrap add $P"
else fail "tracker-wrap add $P"; indent <<<"$out"; fi
check "$P is a symlink to the shim" is_shim_link "$P"
out=$(as_alice tracksuite-testprog 2>&1)
check "wrapped 1.0 runs as alice: '$out'" [ "$out" = "tracksuite-testprog 1.0" ]
check "the 1.0 run is counted in the journal" poll journal_at_least trackerd "alice@$MACHINE tracksuite-testprog" 1
apt_install "apt-get install tracksuite-testprog 2.0 (upgrade while wrapped)" /payload/tracksuite-testprog_2.0_all.deb
check "after the upgrade $P is still the symlink to the shim" is_shim_link "$P"
check "after the upgrade $P.t% is the 2.0 script" c grep -q 'tracksuite-testprog 2.0' "$P.t%"
check "exactly one diversion of tracksuite-testprog" \
    eval '[ "$(c dpkg-divert --list "*tracksuite-testprog*" | wc -l)" = 1 ]'
out=$(as_alice tracksuite-testprog 2>&1)
check "wrapped 2.0 runs as alice: '$out'" [ "$out" = "tracksuite-testprog 2.0" ]
check "the 2.0 run is counted in the journal" poll journal_at_least trackerd "alice@$MACHINE tracksuite-testprog" 2
check "dpkg: tracksuite-tracker has no pending triggers (ii)" \
    eval '[ "$(c dpkg-query -W -f="\${db:Status-Abbrev}" tracksuite-tracker)" = "ii " ]'
section_end

# ---------------------------------------------------------------- a program that moves /bin -> /usr/bin
section "wrapped program moving from /bin to /usr/bin"
apt_install "apt-get install tracksuite-mover 1.0 (ships /bin/tracksuite-mover)" /payload/tracksuite-mover_1.0_all.deb
if out=$(c tracker-wrap add /usr/bin/tracksuite-mover 2>&1); then pass "tracker-wrap add /usr/bin/tracksuite-mover"
else fail "tracker-wrap add /usr/bin/tracksuite-mover"; indent <<<"$out"; fi
info "diversions: $(c dpkg-divert --list '*tracksuite-mover*' | tr '\n' ';')"
check "1.0: the diversion is on the path dpkg records (/bin/tracksuite-mover)" \
    eval '[ "$(c dpkg-divert --listpackage /bin/tracksuite-mover)" = tracksuite-tracker ]'
out=$(as_alice tracksuite-mover 2>&1)
check "wrapped mover 1.0 runs as alice: '$out'" [ "$out" = "tracksuite-mover 1.0" ]
check "the mover 1.0 run is counted" poll journal_at_least trackerd "alice@$MACHINE tracksuite-mover" 1
apt_install "apt-get install tracksuite-mover 2.0 (ships /usr/bin/tracksuite-mover)" /payload/tracksuite-mover_2.0_all.deb
recorded=$(dpkg_path_of tracksuite-mover tracksuite-mover)
divs=$(c dpkg-divert --list '*tracksuite-mover*')
info "dpkg-query -L: $recorded; diversions: $(tr '\n' ';' <<<"$divs")"
check "exactly one diversion of tracksuite-mover after the move" [ "$(grep -c . <<<"$divs")" = 1 ]
check "the diversion is on the path dpkg now records ($recorded)" \
    eval '[ -n "$recorded" ] && [ "$(c dpkg-divert --listpackage "$recorded")" = tracksuite-tracker ]'
check "$recorded is the symlink to the shim" is_shim_link "$recorded"
check "$recorded.t% is the 2.0 script" c grep -q 'tracksuite-mover 2.0' "$recorded.t%"
out=$(as_alice tracksuite-mover 2>&1)
check "wrapped mover 2.0 runs as alice: '$out'" [ "$out" = "tracksuite-mover 2.0" ]
check "the mover 2.0 run is counted" poll journal_at_least trackerd "alice@$MACHINE tracksuite-mover" 2
section_end

# ---------------------------------------------------------------- removal of a wrapped package
section "removal of a wrapped package"
if out=$(capt apt-get remove -y -q tracksuite-testprog 2>&1); then pass "apt-get remove tracksuite-testprog"
else fail "apt-get remove tracksuite-testprog"; tail -20 <<<"$out" | indent; fi
check "no $P left (no dangling symlink)" eval '! c test -L "$P" && ! c test -e "$P"'
check "no $P.t% left" eval '! c test -e "$P.t%"'
check "no diversion of tracksuite-testprog left" eval '[ -z "$(c dpkg-divert --list "*tracksuite-testprog*")" ]'
check "tracker-wrap list no longer shows $P" eval '! c tracker-wrap list 2>/dev/null | grep "tracksuite-testprog" >/dev/null'
section_end

# ---------------------------------------------------------------- purge
section "purge"
if out=$(capt apt-get purge -y -q tracksuite-tracker tracksuite-trackerd 2>&1); then
    pass "apt-get purge tracksuite-tracker tracksuite-trackerd"
else fail "apt-get purge tracksuite-tracker tracksuite-trackerd"; tail -25 <<<"$out" | indent; fi
check "both packages are gone (dpkg-query)" \
    eval '! c dpkg-query -W -f="\${db:Status-Abbrev}\n" tracksuite-tracker tracksuite-trackerd 2>/dev/null | grep "^[a-z]i" >/dev/null'
divs=$(c dpkg-divert --list 2>/dev/null | grep tracksuite)
check "no diversion mentions tracksuite${divs:+ (left: $divs)}" [ -z "$divs" ]
links=$(c find /usr/bin/ /usr/sbin/ /bin/ /sbin/ -maxdepth 1 \( -lname "$SHIM" -o -lname '*tracksuite/tracker' -o -name '*.t%' \) 2>/dev/null)
check "no symlink to the shim and no *.t% in /usr/bin /usr/sbin /bin /sbin${links:+ (left: $(tr '\n' ' ' <<<"$links"))}" [ -z "$links" ]
check "$WRAP_PROG is back as a regular file" eval 'c test -f "$WRAP_PROG" && ! c test -L "$WRAP_PROG"'
check "$prog runs as alice after the purge" eval 'as_alice "$prog" >/dev/null 2>&1'
check "/usr/bin/tracksuite-mover is back and runs" eval '[ "$(as_alice tracksuite-mover 2>&1)" = "tracksuite-mover 2.0" ]'
check "the shim is gone" eval '! c test -e "$SHIM"'
st=$(c systemctl is-active tracker.socket 2>&1)
check "tracker.socket not active (got '$st')" [ "$st" != active ]
check "tracker.socket unit file gone" eval '! c test -e /lib/systemd/system/tracker.socket'
check "trackerd.service not active" eval '[ "$(c systemctl is-active trackerd.service 2>&1)" != active ]'
if port_1738_open; then fail "UDP port 1738 closed"; c ss -ulnp | indent; else pass "UDP port 1738 closed"; fi
check "trackerd's database is gone (/var/lib/private/tracksuite)" eval '! c test -e /var/lib/private/tracksuite/tracker'
left=$(c sh -c 'find /etc/tracksuite /var/lib/tracksuite 2>/dev/null')
[ -z "$left" ] && info "nothing left in /etc/tracksuite or /var/lib/tracksuite" \
    || info "left after purge (admin lists are kept on purge by design): $(tr '\n' ' ' <<<"$left")"
check "no failed units in the container" eval '[ -z "$(c systemctl --failed --no-legend --plain 2>/dev/null)" ]'
section_end

finish
