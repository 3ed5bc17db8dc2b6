#!/bin/bash
# test-packages.sh - the 'system' suite: install the built tracksuite .debs with apt in a
# booted systemd container and check the real thing: tracker.socket enabled and listening,
# socket activation of trackerd, the journal entry and the database for a wrapped program
# run by an ordinary user, the sandbox score, wrappers across upgrades, program moves
# (/bin -> /usr/bin) and removal of the wrapped package, and a clean purge; then
# tracksuite-trackalert: trackalert.socket enabled on 127.0.0.1:8085, a report POSTed with
# curl in the journal and the history, the console, reload, restart, sandbox score, purge;
# then tracksuite-nacct: nacctd.service enabled and started on install, its capabilities
# (CAP_NET_RAW only) and sandbox score, UDP traffic on lo in the classic log, nacct-report
# and the journal's flush summaries (NACCT_* fields, catalog), reload with a broken
# naccttab, restart on upgrade, recovery of the dump file after SIGKILL, logrotate, remove
# and purge, and the replacement of net-acct (a stand-in with its init script and conffiles).
#
#   tests/system/test-packages.sh DEB_DIR
#
# DEB_DIR holds tracksuite-tracker_*.deb and tracksuite-trackerd_*.deb, and optionally
# tracksuite-trackalert_*.deb and tracksuite-nacct_*.deb (debian/build-deb.sh writes them).
# Run as root. Without $CEXEC in the environment the script runs itself through
# tests/system/nspawn-boot (which boots the container, exports CEXEC, ROOT,
# PAYLOAD, LEADER and MACHINE, and tears it down); everything below runs on the host and
# reaches into the container with $CEXEC.
#
# Without tracksuite .debs in DEB_DIR only the harness checks run (apt inside the
# container, the test packages) and the script exits 77.
#
# Output: one "PASS: ..." or "FAIL: ..." line per check, then "N passed, N failed".
# Exit status: 0 all passed, 1 something failed, 77 skipped.
# Environment: SECURITY_THRESHOLD=1.5 (highest acceptable systemd-analyze security
# exposure for trackerd.service), TRACKALERT_SECURITY_THRESHOLD=1.2 (the same for
# trackalert.service, see its section), NACCT_SECURITY_THRESHOLD=1.2 (nacctd.service, see
# its section), POLL_TIMEOUT=20 (seconds to wait for the journal and the database),
# WRAP_PROG=/usr/bin/uptime (a program of a non-Essential package in the
# container to wrap for the user test).
# (pipefail: a pipeline into "grep -q" could fail on SIGPIPE; use grep >/dev/null)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/harness.sh"
harness_boot "$@"

SECURITY_THRESHOLD=${SECURITY_THRESHOLD:-1.5}
# trackalert.service scores 1.1 on systemd 252: what is left is what a network daemon that
# sends webhooks (libcurl) and listens on its console socket cannot give up: no
# PrivateNetwork= (0.5), AF_INET/AF_INET6 (0.3), no IPAddressDeny= (0.2: reports come from
# wforce hosts anywhere), AF_UNIX for the journal (0.1), the host's root (0.1) and the
# read-only rtc that ProtectClock= implies (0.1). 1.2 lets any further loss fail the test.
TRACKALERT_SECURITY_THRESHOLD=${TRACKALERT_SECURITY_THRESHOLD:-1.2}
NACCT_SECURITY_THRESHOLD=${NACCT_SECURITY_THRESHOLD:-1.2}
TA_MID_POLICY=f9d080a67847402cb03216c78840208c
TA_MID_STARTED=0bd566ff571a48c2a940ba4c6cc28d7b
TA_KEY=CRK+jKBpzXNLmM2A4C7OpFCBxiwpYlreCWgGEAIKAQI=
POLL_TIMEOUT=${POLL_TIMEOUT:-20}
WRAP_PROG=${WRAP_PROG:-/usr/bin/uptime}
SHIM=/usr/libexec/tracksuite/tracker
MID_USE=e688de04482249208925797f3265cdb8
DB=/var/lib/tracksuite/tracker/tracker.db

as_alice() { "$CEXEC" runuser -u alice -- "$@"; }

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
TRACKALERT_DEB=$(ls "$DEB_DIR"/tracksuite-trackalert_*.deb 2>/dev/null | sort -V | tail -1)
NACCT_DEB=$(ls "$DEB_DIR"/tracksuite-nacct_*.deb 2>/dev/null | sort -V | tail -1)
HAVE_DEBS=0
if [ -n "$TRACKER_DEB" ] && [ -n "$TRACKERD_DEB" ]; then
    HAVE_DEBS=1
    cp "$TRACKER_DEB" "$TRACKERD_DEB" "$PAYLOAD/"
    info "tracksuite packages: $(basename "$TRACKER_DEB") $(basename "$TRACKERD_DEB")"
    if [ -n "$TRACKALERT_DEB" ]; then
        cp "$TRACKALERT_DEB" "$PAYLOAD/"
        info "and $(basename "$TRACKALERT_DEB")"
    fi
    if [ -n "$NACCT_DEB" ]; then
        cp "$NACCT_DEB" "$PAYLOAD/"
        info "and $(basename "$NACCT_DEB")"
    fi
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
unit_sandbox trackerd.service "$SECURITY_THRESHOLD" tracker.socket trackerd.service
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

# ---------------------------------------------------------------- trackerd reload (issue 13 item 18)
section "trackerd: systemctl reload"
c cp /etc/tracksuite/trackerd.conf /etc/tracksuite/trackerd.conf.systest
c sh -c 'printf "[Collector]\nLogUses=yes\nRetentoin=1d\n" > /etc/tracksuite/trackerd.conf'
check "systemctl reload trackerd fails on a configuration with a problem" \
    eval '! c systemctl reload trackerd.service >/dev/null 2>&1'
check "trackerd keeps running after the refused reload" c systemctl is-active --quiet trackerd.service
c sh -c 'printf "[Collector]\nLogUses=yes\nAllowSource=127.0.0.0/8 ::1\n" > /etc/tracksuite/trackerd.conf'
check "systemctl reload trackerd applies a good configuration" c systemctl reload trackerd.service
check "the reload is in the journal" \
    poll eval 'c journalctl --no-pager -u trackerd -o cat | grep -q "Reloaded"'
c mv /etc/tracksuite/trackerd.conf.systest /etc/tracksuite/trackerd.conf
c systemctl reload trackerd.service >/dev/null 2>&1 || true
section_end

# ---------------------------------------------------------------- trackalert
port_8085_on_loopback() { c ss -H -tln 'sport = :8085' 2>/dev/null | grep -F '127.0.0.1:8085' >/dev/null; }
ta_password() {   # the web server password the postinst generated
    c sed -n 's/^setWebserverPassword("\(.*\)")$/\1/p' /etc/tracksuite/trackalert.conf
}
ta_post() {   # ta_post LOGIN: POST a report with curl inside the container, print the body
    c curl -sS --max-time 10 -u "admin:$(ta_password)" -H 'Content-Type: application/json' \
        -d "{\"login\":\"$1\",\"remote\":\"192.0.2.7\",\"success\":false,\"protocol\":\"imap\"}" \
        http://127.0.0.1:8085/command/report 2>&1
}
ta_rows() { c sqlite3 -readonly /var/lib/private/tracksuite/trackalert/trackalert.db \
    "SELECT count(*) FROM reports WHERE login LIKE 'systest%'" 2>/dev/null; }
ta_rows_are() { [ "$(ta_rows)" = "$1" ]; }
ta_policy_entry() {   # the policy's log entry for LOGIN with its structured fields
    c journalctl --no-pager -u trackalert -o export 2>/dev/null | awk -v l="$1" -v m="$TA_MID_POLICY" '
        /^$/ { if (mu && lu) found = 1; mu = lu = 0; next }
        $0 == "MESSAGE_ID=" m { mu = 1 }
        $0 == "TRACKALERT_LOGIN=" l { lu = 1 }
        END { if (mu && lu) found = 1; exit !found }'
}
ta_section_end() { [ "$FAILED" = "$SECTION_FAILED" ] || ta_diagnostics; }
ta_diagnostics() {
    echo "---- trackalert diagnostics"
    { c systemctl status --no-pager --lines=0 trackalert.socket trackalert.service 2>&1
      echo "-- journalctl -u trackalert.socket -u trackalert (last 40)"
      c journalctl --no-pager -u trackalert.socket -u trackalert -n 40 -o short-monotonic 2>&1
      echo "-- ss -tlnp"; c ss -tlnp 2>&1
    } | indent
    echo "----"
}

if [ -n "$TRACKALERT_DEB" ]; then
section "trackalert: install"
if apt_install "apt-get install $(basename "$TRACKALERT_DEB") (offline, without Recommends: uap-core)" \
        "/payload/$(basename "$TRACKALERT_DEB")"; then
    check "dpkg: tracksuite-trackalert installed and configured (ii)" \
        eval '[ "$(c dpkg-query -W -f="\${db:Status-Abbrev}" tracksuite-trackalert)" = "ii " ]'
    check "uap-core (only recommended) is not installed" \
        eval '! c dpkg-query -W -f="\${db:Status-Abbrev}" uap-core 2>/dev/null | grep "^ii" >/dev/null'
    st=$(c systemctl is-enabled trackalert.socket 2>&1)
    check "trackalert.socket is-enabled = enabled (got '$st')" [ "$st" = enabled ]
    st=$(c systemctl is-active trackalert.socket 2>&1)
    check "trackalert.socket is-active = active (got '$st')" [ "$st" = active ]
    st=$(c systemctl is-enabled trackalert.service 2>&1)
    check "trackalert.service is-enabled = enabled, so its console is reachable (got '$st')" [ "$st" = enabled ]
    pw=$(ta_password)
    check "the postinst generated a web server password (not change-me, 24 characters)" \
        eval '[ "${#pw}" = 24 ] && ! c grep -q "change-me\|@WEBPWD@\|@SETKEY@" /etc/tracksuite/trackalert.conf'
    if poll eval '[ "$(c trackalert -C /etc/tracksuite/trackalert.conf -e "stats()" 2>&1 | sed -n 2p)" = "0 reports" ]'; then
        pass "the console answers right after the installation (trackalert -e 'stats()')"
    else
        fail "the console answers right after the installation"; c trackalert -C /etc/tracksuite/trackalert.conf -e 'stats()' 2>&1 | indent
    fi
    st=$(c stat -c '%a %U:%G' /etc/tracksuite/trackalert.conf 2>&1)
    check "/etc/tracksuite/trackalert.conf (password, console key) is 640 root:root (got '$st')" \
        [ "$st" = "640 root:root" ]
    check "an ordinary user cannot read /etc/tracksuite/trackalert.conf" \
        eval '! as_alice cat /etc/tracksuite/trackalert.conf >/dev/null 2>&1'
    if port_8085_on_loopback; then pass "TCP 127.0.0.1:8085 is listening (ss -tln)"; c ss -tln 'sport = :8085' | indent
    else fail "TCP 127.0.0.1:8085 is listening (ss -tln)"; c ss -tlnp | indent; fi
else
    dpkg-deb -f "$TRACKALERT_DEB" Depends | indent
fi
ta_section_end

section "trackalert: units"
unit_sandbox trackalert.service "$TRACKALERT_SECURITY_THRESHOLD" trackalert.socket trackalert.service
for m in man8/trackalert.8 man5/trackalert.conf.5; do
    check "Documentation: /usr/share/man/$m.gz installed" c test -f "/usr/share/man/$m.gz"
done
check "journal catalog entries for trackalert's MESSAGE_IDs" eval '
    c journalctl --list-catalog 2>/dev/null | grep -E "^($TA_MID_POLICY|$TA_MID_STARTED) tracksuite: " | wc -l | grep -x 2 >/dev/null'
ta_section_end

section "trackalert: a report POSTed with curl"
# The admin's policy: log each report (the shipped one only counts failures), taken by a reload.
check "a policy in /etc/tracksuite/trackalert.conf" c sh -c "cat >>/etc/tracksuite/trackalert.conf <<'EOF'
setReport(function(lt)
  infoLog(\"system test report\", {login=lt.login})
end)
EOF"
if out=$(c systemctl reload trackalert.service 2>&1); then pass "systemctl reload trackalert.service takes the policy"
else fail "systemctl reload trackalert.service takes the policy"; indent <<<"$out"; fi
out=$(ta_post systest1)
check "curl POST /command/report answers {\"status\":\"ok\"} (got '$out')" [ "$out" = '{"status":"ok"}' ]
st=$(c systemctl is-active trackalert.service 2>&1)
check "trackalert.service is active ($st)" [ "$st" = active ]
if poll journal_has trackalert 'system test report: login="systest1"'; then
    pass "journalctl -u trackalert: the policy logged the report"
    c journalctl --no-pager -u trackalert -o cat | grep -F "systest1" | indent
else
    fail "journalctl -u trackalert: no 'system test report' for systest1 within ${POLL_TIMEOUT}s"
fi
check "the journal entry has MESSAGE_ID=$TA_MID_POLICY and TRACKALERT_LOGIN=systest1" \
    ta_policy_entry systest1
st=$(c sh -c 'tr "\0" " " </proc/$(systemctl show -p MainPID --value trackalert.service)/cmdline' 2>&1)
check "the service reads its configuration as a credential (command line: $st)" \
    eval 'grep -F -- "-C /run/credentials/trackalert.service/trackalert.conf" <<<"$st" >/dev/null'
check "the start is in the journal (MESSAGE_ID=$TA_MID_STARTED)" \
    poll eval 'c journalctl --no-pager -u trackalert MESSAGE_ID=$TA_MID_STARTED -o cat 2>/dev/null | grep "serving on 1 socket (socket-activated)" >/dev/null'
check "the report is in the history database" poll ta_rows_are 1
out=$(c curl -sS --max-time 10 -u "admin:$(ta_password)" http://127.0.0.1:8085/command/stats 2>&1)
check "GET /command/stats counts it ($out)" eval 'grep "\"reports\": 1," <<<"$out" >/dev/null'
out=$(c curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -u admin:wrong http://127.0.0.1:8085/command/stats 2>&1)
check "a wrong password is 401 (got $out)" [ "$out" = 401 ]
out=$(c trackalert -C /etc/tracksuite/trackalert.conf -e 'stats()' 2>&1)
check "trackalert -e 'stats()' through the console: '$out'" [ "$(sed -n 2p <<<"$out")" = "1 reports" ]
check "a broken configuration fails systemctl reload" c sh -c 'cp /etc/tracksuite/trackalert.conf /root/ta.conf &&
    echo "setReport(function(lt)" >>/etc/tracksuite/trackalert.conf && ! systemctl reload trackalert.service;
    r=$?; cp /root/ta.conf /etc/tracksuite/trackalert.conf; exit $r'
out=$(c journalctl --no-pager -u trackalert -n 30 -o cat 2>&1)
check "the failed reload names /etc/tracksuite/trackalert.conf:LINE" \
    eval 'grep -E "/etc/tracksuite/trackalert.conf:[0-9]+:" <<<"$out" >/dev/null' 
if out=$(c systemctl reload trackalert.service 2>&1); then pass "systemctl reload trackalert.service"
else fail "systemctl reload trackalert.service"; indent <<<"$out"; fi
st=$(c systemctl is-active trackalert.service 2>&1)
check "trackalert.service still active after the reload ($st)" [ "$st" = active ]
if out=$(c systemctl restart trackalert.service 2>&1); then pass "systemctl restart trackalert.service"
else fail "systemctl restart trackalert.service"; indent <<<"$out"; fi
out=$(ta_post systest2)
check "a report after the restart ($out)" [ "$out" = '{"status":"ok"}' ]
check "the history kept the first report across the restart (2 rows)" poll ta_rows_are 2
info "state directory: $(c ls -ld /var/lib/tracksuite/trackalert /var/lib/private/tracksuite/trackalert 2>&1 | tr '\n' ';')"
ta_section_end

section "trackalert: purge"
if out=$(capt apt-get purge -y -q tracksuite-trackalert 2>&1); then pass "apt-get purge tracksuite-trackalert"
else fail "apt-get purge tracksuite-trackalert"; tail -25 <<<"$out" | indent; fi
st=$(c systemctl is-active trackalert.socket 2>&1)
check "trackalert.socket not active (got '$st')" [ "$st" != active ]
check "trackalert.service not active" eval '[ "$(c systemctl is-active trackalert.service 2>&1)" != active ]'
check "trackalert.socket unit file gone" eval '! c test -e /lib/systemd/system/trackalert.socket'
if port_8085_on_loopback; then fail "TCP port 8085 closed"; c ss -tlnp | indent; else pass "TCP port 8085 closed"; fi
check "trackalert's history is gone (/var/lib/private/tracksuite/trackalert)" \
    eval '! c test -e /var/lib/private/tracksuite/trackalert'
check "/etc/tracksuite/trackalert.conf is gone" eval '! c test -e /etc/tracksuite/trackalert.conf'
ta_section_end
else
    echo
    info "no tracksuite-trackalert_*.deb in $DEB_DIR: trackalert checks not run"
fi

# ---------------------------------------------------------------- nacct
NACCT_MID_STARTED=38d716105a004c93b25cc3afbc90352c
NACCT_MID_STOPPED=0732a9cf9bf2449dab757aeec01d935d
NACCT_MID_FLUSH=d78146c987a142b8b3e8020d0a91e074
NACCT_MID_RELOADED=0213e07078214000979c055af2a466b2
NACCT_MID_RELOAD_FAILED=41d4bd223e3041819d16f60e226141fa
NACCT_MID_CAPTURE_STARTED=6bff61b154534c94bf4043057bb1b595
NACCT_MID_RECOVERED=6f8bcf261d05467692d0c919b1f1b6e4
NACCTTAB=/etc/tracksuite/naccttab
NACCT_LOG=/var/log/net-acct/net-acct.log
NACCT_DUMP=/var/log/net-acct/dump
NACCT_DB=/var/lib/tracksuite/nacct/nacct.db
# every field the flush summary documents (nacctd(8), JOURNAL)
NACCT_FLUSH_FIELDS="NACCT_PACKETS NACCT_BYTES NACCT_FLOWS NACCT_NEW_FLOWS NACCT_LINES
    NACCT_PENDING_LINES NACCT_IGNORED NACCT_TRUNCATED NACCT_MALFORMED NACCT_LOCAL
    NACCT_NETIGNORED NACCT_HOSTLIMIT NACCT_NOTDEV NACCT_TABLE_FULL NACCT_KERNEL_DROPS
    NACCT_INTERFACES NACCT_WRITING"

nacct_pid() { c systemctl show -p MainPID --value nacctd.service 2>/dev/null; }
nacct_invocation() { c systemctl show -p InvocationID --value nacctd.service 2>/dev/null; }
nacct_active() { [ "$(c systemctl is-active nacctd.service 2>/dev/null)" = active ]; }
nacct_restarted() {   # nacct_restarted OLD_PID: active again with another main process
    local p; p=$(nacct_pid); nacct_active && [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$1" ]
}
# nacct_send SPORT N SIZE: N UDP datagrams of SIZE bytes from 127.0.0.1:SPORT to
# 127.0.0.2:5555, from an unconnected socket (perl-base is Essential), so that the ICMP
# port-unreachable answers stop none of them. Each is 28 + SIZE bytes of IP; each answer
# is 20 + 8 + 28 + SIZE.
nacct_send() {
    c perl -MSocket -MIO::Socket::INET -e '
        my ($sport, $n, $size) = @ARGV;
        my $s = IO::Socket::INET->new(Proto => "udp", LocalAddr => "127.0.0.1",
                                      LocalPort => $sport) or die "socket: $!\n";
        my $to = pack_sockaddr_in(5555, inet_aton("127.0.0.2"));
        for (1 .. $n) { defined $s->send("x" x $size, 0, $to) or die "send: $!\n" }' "$@"
}
# nacct_flow FILE... SPORT: "packets bytes" summed over the classic lines (all ten fields)
# of the UDP flow 127.0.0.1:SPORT -> 127.0.0.2:5555 on lo; a flow may be split over flushes
nacct_flow() {
    local sport=${*: -1}
    c sh -c 'cat "$@" 2>/dev/null' sh "${@:1:$#-1}" | awk -F '\t' -v sp="$sport" '
        NF == 10 && $1 ~ /^[0-9]+$/ && $2 == 17 && $3 == "127.0.0.1" && $4 == sp &&
        $5 == "127.0.0.2" && $6 == 5555 && $9 == "lo" && $10 == "unknown" { p += $7; b += $8 }
        END { printf "%d %d\n", p, b }'
}
nacct_flow_is() {   # nacct_flow_is FILE... SPORT "PACKETS BYTES"
    [ "$(nacct_flow "${@:1:$#-1}")" = "${*: -1}" ]
}
nacct_journal_has() {   # nacct_journal_has MESSAGE_ID PATTERN [INVOCATION]
    c journalctl --no-pager -u nacctd MESSAGE_ID="$1" ${3:+_SYSTEMD_INVOCATION_ID=$3} -o cat 2>/dev/null |
        grep -F -- "$2" >/dev/null
}
nacct_journal_grep() {   # nacct_journal_grep INVOCATION PATTERN: any entry of that run
    c journalctl --no-pager -u nacctd _SYSTEMD_INVOCATION_ID="$1" -o cat 2>/dev/null |
        grep -F -- "$2" >/dev/null
}
nacct_journal_count() {   # nacct_journal_count MESSAGE_ID [INVOCATION]
    c journalctl --no-pager -u nacctd MESSAGE_ID="$1" ${2:+_SYSTEMD_INVOCATION_ID=$2} -o cat 2>/dev/null | grep -c .
}
# the flush summaries of one invocation (-o verbose: an entry's header line, then its
# fields indented): "entries packets bytes lines complete", complete = how many entries
# carry every documented field, TRACKSUITE_COMPONENT=nacct and _SYSTEMD_UNIT=nacctd.service
nacct_flush_totals() {
    c journalctl --no-pager -u nacctd MESSAGE_ID=$NACCT_MID_FLUSH _SYSTEMD_INVOCATION_ID="$1" \
        -o verbose 2>/dev/null | awk -v want="$NACCT_FLUSH_FIELDS" '
        function done_entry() {
            if (!inentry) return
            n++; ok = f["TRACKSUITE_COMPONENT"] == "nacct" && f["_SYSTEMD_UNIT"] == "nacctd.service"
            for (i = 1; i <= nw; i++) if (w[i] != "" && !(w[i] in f)) ok = 0
            complete += ok; p += f["NACCT_PACKETS"]; b += f["NACCT_BYTES"]; l += f["NACCT_LINES"]
            delete f
        }
        BEGIN { nw = split(want, w, /[ \t\n]+/) }
        /^[^ ]/ { done_entry(); inentry = 1; next }
        /^    [A-Z_]+=/ { s = substr($0, 5); k = substr(s, 1, index(s, "=") - 1); f[k] = substr(s, length(k) + 2) }
        END { done_entry(); printf "%d %d %d %d %d\n", n, p, b, l, complete }'
}
nacct_captures_lo() {
    c journalctl --no-pager -u nacctd MESSAGE_ID=$NACCT_MID_CAPTURE_STARTED NACCT_INTERFACE=lo \
        -o cat 2>/dev/null | grep -F "Capturing on 'lo'" >/dev/null
}
nacct_caps() { c grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' "/proc/$1/status" 2>/dev/null; }
nacct_cap() { nacct_caps "$1" | awk -v k="$2:" '$1 == k { print $2 }'; }
nacct_packet_sockets() { c ss -H -0 -p 2>/dev/null; }
nacct_diagnostics() {
    echo "---- nacct diagnostics"
    { c systemctl status --no-pager --lines=0 nacctd.service 2>&1
      echo "-- journalctl -u nacctd (last 40)"
      c journalctl --no-pager -u nacctd -n 40 -o short-monotonic 2>&1
      echo "-- ls -l /var/log/net-acct/"; c ls -l /var/log/net-acct/ 2>&1
      echo "-- $NACCT_LOG (last 10)"; c tail -n 10 "$NACCT_LOG" 2>&1
      echo "-- $NACCT_DUMP"; c cat "$NACCT_DUMP" 2>&1
      echo "-- $NACCTTAB (without comments)"; c grep -v '^#' "$NACCTTAB" 2>&1 | grep .
      echo "-- ss -0 -p"; c ss -0 -p 2>&1
    } | indent
    echo "----"
}
nacct_section_end() { [ "$FAILED" = "$SECTION_FAILED" ] || nacct_diagnostics; }

if [ -n "$NACCT_DEB" ]; then
section "nacct: install"
if apt_install "apt-get install $(basename "$NACCT_DEB") (offline)" "/payload/$(basename "$NACCT_DEB")"; then
    check "dpkg: tracksuite-nacct installed and configured (ii)" \
        eval '[ "$(c dpkg-query -W -f="\${db:Status-Abbrev}" tracksuite-nacct)" = "ii " ]'
    st=$(c systemctl is-enabled nacctd.service 2>&1)
    check "nacctd.service is-enabled = enabled (got '$st')" [ "$st" = enabled ]
    # started by the postinst, as net-acct's init script started nacctd
    st=$(c systemctl is-active nacctd.service 2>&1)
    check "nacctd.service is-active = active right after the install (got '$st')" [ "$st" = active ]
    check "the start is in the journal (MESSAGE_ID=$NACCT_MID_STARTED)" \
        poll nacct_journal_has $NACCT_MID_STARTED "into '$NACCT_LOG' and '$NACCT_DB'"
    check "capturing on lo (MESSAGE_ID=$NACCT_MID_CAPTURE_STARTED, NACCT_INTERFACE=lo)" \
        poll nacct_captures_lo
    check "nacctd --check-config accepts the shipped $NACCTTAB" c nacctd --check-config
else
    dpkg-deb -f "$NACCT_DEB" Depends | indent
fi
nacct_section_end

section "nacct: the sandbox under systemd"
NACCT_PID=$(nacct_pid)
info "MainPID $NACCT_PID: $(nacct_caps "$NACCT_PID" | tr '\t\n' ' ;')"
# CAP_NET_RAW is bit 13: 0x2000. Effective and bounding hold it and nothing else; the
# permitted, inheritable and ambient sets follow from AmbientCapabilities=.
for set in CapEff CapBnd CapPrm CapAmb; do
    v=$(nacct_cap "$NACCT_PID" $set)
    check "$set of nacctd is CAP_NET_RAW only (0000000000002000, got '$v')" [ "$v" = 0000000000002000 ]
done
u=$(c ps -o user=,uid= -p "$NACCT_PID" 2>/dev/null | awk '{print $1, $2}')
check "nacctd runs as the dynamic user nacctd, not root (got '$u')" \
    eval '[ "${u%% *}" = nacctd ] && [ "${u##* }" -ge 61184 ] && [ "${u##* }" -le 65519 ]'
if nacct_packet_sockets | grep -F '"nacctd"' >/dev/null; then
    pass "nacctd holds a packet socket (ss -0 -p)"; nacct_packet_sockets | indent
else
    fail "nacctd holds a packet socket (ss -0 -p)"; c ss -0 -p 2>&1 | indent
fi
check "StateDirectory: /var/lib/tracksuite/nacct -> ../private/tracksuite/nacct" \
    eval '[ "$(c readlink /var/lib/tracksuite/nacct)" = ../private/tracksuite/nacct ]'
check "LogsDirectory: /var/log/net-acct -> private/net-acct" \
    eval '[ "$(c readlink /var/log/net-acct)" = private/net-acct ]'
st=$(c stat -c '%a %U' /var/log/private/net-acct /var/lib/private/tracksuite/nacct 2>&1 | tr '\n' ' ')
check "both are mode 0750 and owned by nacctd (got '$st')" [ "$st" = "750 nacctd 750 nacctd " ]
# nacctd.service scores 1.2 on systemd 252, all of it what capturing every interface of the
# host needs: no PrivateNetwork= (0.5: it must see the host's interfaces), AF_PACKET (0.2)
# with CAP_NET_RAW (0.1) given as an ambient capability (0.1), no PrivateUsers= (0.2: a
# capability in a user namespace does not reach the host's network namespace), AF_NETLINK
# (0.1: interface discovery), AF_UNIX (0.1: journal, sd_notify), the host's root (0.1) and
# the read-only rtc that ProtectClock= implies (0.1). 1.2 lets any further loss fail the test.
# Offline the unit file as shipped, online the unit as systemd loaded it.
exposure_ok "--offline=true nacctd.service" "$NACCT_SECURITY_THRESHOLD" \
    "$(security_report nacctd.service)"
SECURITY_OUT=$(c systemd-analyze security --no-pager nacctd.service 2>&1)
exposure_ok "(loaded unit) nacctd.service" "$NACCT_SECURITY_THRESHOLD" "$SECURITY_OUT"
info "settings that cost points:"
grep '^✗' <<<"$SECURITY_OUT" | sed 's/  \+/  /g' | indent
if out=$(c systemd-analyze verify --man=no /lib/systemd/system/nacctd.service 2>&1); then
    pass "systemd-analyze verify nacctd.service${out:+ (said: $out)}"
else
    fail "systemd-analyze verify nacctd.service"; indent <<<"$out"
fi
for m in man8/nacctd.8 man5/naccttab.5 man1/nacct-report.1; do
    check "Documentation: /usr/share/man/$m.gz installed" c test -f "/usr/share/man/$m.gz"
done
ids=$(c sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' /usr/lib/systemd/catalog/nacct.catalog 2>/dev/null)
listed=$(c journalctl --list-catalog 2>/dev/null)
missing=$(for id in $ids; do grep "^$id tracksuite: " <<<"$listed" >/dev/null || echo "$id"; done)
check "journalctl --list-catalog has all $(wc -w <<<"$ids") nacct MESSAGE_IDs${missing:+ (missing: $(tr '\n' ' ' <<<"$missing"))}" \
    eval '[ -n "$ids" ] && [ -z "$missing" ]'
check "the logrotate configuration parses (logrotate -d)" \
    eval 'c logrotate -d /etc/logrotate.d/tracksuite-nacct >/dev/null 2>&1'
nacct_section_end

section "nacct: traffic in the log, the database and the journal"
# The shipped naccttab ignores 127.0.0.0/8, and the container only has lo: account
# 127.0.0.2 (dontignore) and flush every 2 s, as an admin would, then restart.
check "naccttab: flush 2, fdelay 1, dontignore 127.0.0.2" c sed -i \
    -e 's/^flush .*/flush 2/' -e 's/^fdelay .*/fdelay 1/' \
    -e 's/^#dontignore .*/dontignore 127.0.0.2 255.255.255.255/' "$NACCTTAB"
check "nacctd --check-config accepts the change" c nacctd --check-config
if out=$(c systemctl restart nacctd.service 2>&1); then pass "systemctl restart nacctd"
else fail "systemctl restart nacctd"; indent <<<"$out"; fi
INV=$(nacct_invocation)
check "5 UDP datagrams of 100 bytes from 127.0.0.1:40123 to 127.0.0.2:5555 (perl)" nacct_send 40123 5 100
if poll nacct_flow_is "$NACCT_LOG" 40123 "5 640"; then
    pass "$NACCT_LOG: 17 127.0.0.1 40123 127.0.0.2 5555 5 640 lo unknown"
    c cat "$NACCT_LOG" | indent
else
    fail "$NACCT_LOG: no line for 5 packets, 640 bytes from 127.0.0.1:40123 within ${POLL_TIMEOUT}s (got '$(nacct_flow "$NACCT_LOG" 40123)')"
fi
check "the ICMP port unreachable answers are a line too: 1 127.0.0.2 3 127.0.0.1 3 5 780" eval '
    c cat "$NACCT_LOG" | awk -F "\t" "\$2 == 1 && \$3 == \"127.0.0.2\" && \$4 == 3 && \$5 == \"127.0.0.1\" && \$6 == 3 { p += \$7; b += \$8 } END { exit !(p == 5 && b == 780) }"'
# (CSV as RFC 4180 has it: CRLF line ends)
nacct_report_row() { c nacct-report --csv hosts 2>/dev/null | tr -d '\r' | grep -x -F "$1" >/dev/null; }
if poll nacct_report_row "127.0.0.2,1420,640,780,5,5"; then
    pass "nacct-report --csv hosts (root, default database): 127.0.0.2,1420,640,780,5,5"
    c nacct-report hosts 2>&1 | indent
else
    fail "nacct-report --csv hosts: no row 127.0.0.2,1420,640,780,5,5 within ${POLL_TIMEOUT}s"
    c nacct-report --csv hosts 2>&1 | indent
fi
check "alice can read neither the log nor the database" \
    eval '! as_alice cat "$NACCT_LOG" >/dev/null 2>&1 && ! as_alice nacct-report --db "$NACCT_DB" >/dev/null 2>&1'
nacct_flush_done() { [ "$(nacct_flush_totals "$INV" | cut -d" " -f2-4)" = "10 1420 2" ]; }
if poll nacct_flush_done; then
    pass "flush summaries of this run add up to the log: 10 packets, 1420 bytes, 2 lines"
else
    fail "flush summaries of this run add up to 10 packets, 1420 bytes, 2 lines (entries packets bytes lines complete: $(nacct_flush_totals "$INV"))"
fi
t=$(nacct_flush_totals "$INV")
check "every flush summary carries MESSAGE_ID=$NACCT_MID_FLUSH, the 17 NACCT_* fields and TRACKSUITE_COMPONENT=nacct ($t)" \
    eval 'read -r n _ _ _ k <<<"$t"; [ "$n" -ge 1 ] && [ "$n" = "$k" ]'
c journalctl --no-pager -u nacctd MESSAGE_ID=$NACCT_MID_FLUSH _SYSTEMD_INVOCATION_ID="$INV" NACCT_LINES=2 \
    -o verbose 2>/dev/null | grep -E '^ +(MESSAGE|MESSAGE_ID|NACCT_[A-Z_]+)=' | indent
XOUT=$(c journalctl --no-pager -x -u nacctd _SYSTEMD_INVOCATION_ID="$INV" 2>/dev/null)
check "journalctl -x: the catalog explains a flush ('A flush cycle ran: N lines went to the log')" \
    eval 'grep -E "A flush cycle ran: [1-9][0-9]* lines went to the log" <<<"$XOUT" >/dev/null'
check "journalctl -x: every @NACCT_...@ of the catalog text is filled in" \
    eval '! grep -F "@NACCT_" <<<"$XOUT" >/dev/null'
nacct_section_end

section "nacct: reload"
PID=$(nacct_pid)
n0=$(nacct_journal_count $NACCT_MID_RELOADED "$INV")
if out=$(c systemctl reload nacctd.service 2>&1); then pass "systemctl reload nacctd (SIGHUP)"
else fail "systemctl reload nacctd"; indent <<<"$out"; fi
check "the reload is in the journal (MESSAGE_ID=$NACCT_MID_RELOADED)" \
    poll eval '[ "$(nacct_journal_count $NACCT_MID_RELOADED "$INV")" -gt "$n0" ]'
check "a broken naccttab: 'no-such-directive 1' appended" \
    c sh -c "echo 'no-such-directive 1' >>$NACCTTAB"
line=$(c sh -c "wc -l <$NACCTTAB")
out=$(c nacctd --check-config 2>&1); rc=$?
check "nacctd --check-config exits 1 and names $NACCTTAB:$line (said: $out)" \
    eval '[ $rc = 1 ] && grep -F "$NACCTTAB:$line: " <<<"$out" >/dev/null'
# systemctl reload checks first (ExecReload=nacctd --check-config) and fails without
# signalling; a SIGHUP sent anyway is refused by the daemon itself.
if out=$(c systemctl reload nacctd.service 2>&1); then
    fail "systemctl reload nacctd with the broken naccttab fails (it succeeded)"
else
    pass "systemctl reload nacctd with the broken naccttab fails"
fi
check "the reload's check named $NACCTTAB:$line in the journal (stderr)" poll eval '
    c journalctl --no-pager -u nacctd _TRANSPORT=stdout -o cat 2>/dev/null | grep -F "$NACCTTAB:$line: " >/dev/null'
# A SIGHUP sent anyway: a typo is warned about with file:line and ignored, the rest applies.
check "systemctl kill -s HUP nacctd with the typo in naccttab" c systemctl kill -s HUP nacctd.service
check "the journal names $NACCTTAB:$line" poll nacct_journal_grep "$INV" "$NACCTTAB:$line: "
st=$(c systemctl is-active nacctd.service 2>&1)
check "nacctd.service still active ($st), same main process ($PID)" \
    eval '[ "$st" = active ] && [ "$(nacct_pid)" = "$PID" ]'
# A typo never stops the accounting: a restart with it starts, warns and accounts.
if out=$(c systemctl restart nacctd.service 2>&1); then
    pass "systemctl restart nacctd with a typo in naccttab starts"
else
    fail "systemctl restart nacctd with a typo in naccttab failed"; indent <<<"$out"
fi
check "nacctd.service active after the restart" poll nacct_active
INV2=$(nacct_invocation)
PID=$(nacct_pid)
check "the restarted nacctd named $NACCTTAB:$line in the journal" \
    poll nacct_journal_grep "$INV2" "$NACCTTAB:$line: "
check "it still accounts: 2 datagrams from port 40141 in the log" \
    eval 'nacct_send 40141 2 10 && poll nacct_flow_is "$NACCT_LOG" 40141 "2 76"'
# What nacctd cannot run with (a directory where a file is meant) is refused by a reload,
# which keeps the configuration in use, and fails a start.
check "naccttab: the typo replaced by 'debugfile /var/log/net-acct' (a directory)" \
    c sed -i '$s|.*|debugfile /var/log/net-acct|' "$NACCTTAB"
check "systemctl kill -s HUP nacctd with the fatal naccttab" c systemctl kill -s HUP nacctd.service
check "the journal names $NACCTTAB:$line" poll nacct_journal_grep "$INV2" "$NACCTTAB:$line: "
check "and keeps the configuration in use (MESSAGE_ID=$NACCT_MID_RELOAD_FAILED)" \
    poll nacct_journal_has $NACCT_MID_RELOAD_FAILED "keeping the one in use" "$INV2"
st=$(c systemctl is-active nacctd.service 2>&1)
check "nacctd.service still active ($st), same main process ($PID)" \
    eval '[ "$st" = active ] && [ "$(nacct_pid)" = "$PID" ]'
check "it still accounts: 2 datagrams from port 40140 in the log" \
    eval 'nacct_send 40140 2 10 && poll nacct_flow_is "$NACCT_LOG" 40140 "2 76"'
# What the failed start logged, found by time: by the time the check runs, Restart=on-failure
# may have started another invocation already, and journald may not have stored the line yet.
T0=$(c date +%s.%N)
if out=$(c systemctl restart nacctd.service 2>&1); then
    fail "systemctl restart nacctd with the fatal naccttab fails (it started)"
else
    pass "systemctl restart nacctd with the fatal naccttab fails"
fi
check "the failed start named $NACCTTAB:$line in the journal" poll eval '
    c journalctl --no-pager -u nacctd --since "@$T0" -o cat 2>/dev/null |
        grep -F "$NACCTTAB:$line: " >/dev/null'
check "naccttab repaired (last line removed)" c sed -i '$d' "$NACCTTAB"
c systemctl reset-failed nacctd.service >/dev/null 2>&1
c systemctl start nacctd.service >/dev/null 2>&1
check "nacctd.service starts again with the repaired naccttab" poll nacct_active
INV=$(nacct_invocation)
nacct_section_end

section "nacct: upgrade (reinstall) restarts it, nothing lost"
PID=$(nacct_pid)
check "4 datagrams of 60 bytes from port 40125, then at once:" nacct_send 40125 4 60
if out=$(capt apt-get install -y -q --no-install-recommends --reinstall "/payload/$(basename "$NACCT_DEB")" 2>&1)
then pass "apt-get install --reinstall $(basename "$NACCT_DEB")"
else fail "apt-get install --reinstall $(basename "$NACCT_DEB")"; tail -20 <<<"$out" | indent; fi
if poll nacct_restarted "$PID"; then pass "nacctd.service restarted: active, main process $PID -> $(nacct_pid)"
else fail "nacctd.service restarted: active with a new main process (was $PID, now '$(nacct_pid)')"; fi
check "the changed naccttab (a conffile) was kept" c grep -qx 'flush 2' "$NACCTTAB"
check "the 4 datagrams are in the log (4 packets, 352 bytes): the restart's stop wrote them" \
    poll nacct_flow_is "$NACCT_LOG" 40125 "4 352"
check "the stop before the restart is in the journal (MESSAGE_ID=$NACCT_MID_STOPPED)" \
    poll nacct_journal_has $NACCT_MID_STOPPED "nacctd terminating (Terminated)" "$INV"
check "no dump file after the clean stop" eval '! c test -e "$NACCT_DUMP"'
INV=$(nacct_invocation)
nacct_section_end

section "nacct: unclean stop, Restart=on-failure and the dump file"
PID=$(nacct_pid)
check "systemctl kill -s TSTP nacctd" c systemctl kill -s TSTP nacctd.service
check "writing suspended (journal)" poll nacct_journal_grep "$INV" "suspended (SIGTSTP)"
check "3 datagrams of 40 bytes from port 40126" nacct_send 40126 3 40
check "their line waits in the dump file" poll nacct_flow_is "$NACCT_DUMP" 40126 "3 204"
check "... and not in the log" nacct_flow_is "$NACCT_LOG" 40126 "0 0"
check "systemctl kill -s KILL nacctd" c systemctl kill -s KILL nacctd.service
if poll nacct_restarted "$PID"; then pass "Restart=on-failure started it again: main process $PID -> $(nacct_pid)"
else fail "Restart=on-failure started it again (was $PID, now '$(nacct_pid)')"; fi
INV=$(nacct_invocation)
check "the new nacctd recovered the dump into the log (MESSAGE_ID=$NACCT_MID_RECOVERED)" \
    poll nacct_journal_has $NACCT_MID_RECOVERED "" "$INV"
check "the log has the 3 datagrams exactly once (3 packets, 204 bytes)" nacct_flow_is "$NACCT_LOG" 40126 "3 204"
check "the dump file is gone" eval '! c test -e "$NACCT_DUMP"'
nacct_section_end

section "nacct: log rotation (logrotate, no signal)"
if out=$(c logrotate -f /etc/logrotate.d/tracksuite-nacct 2>&1); then pass "logrotate -f /etc/logrotate.d/tracksuite-nacct"
else fail "logrotate -f /etc/logrotate.d/tracksuite-nacct"; indent <<<"$out"; fi
check "$NACCT_LOG.1 holds the old lines (delaycompress: not compressed yet)" \
    nacct_flow_is "$NACCT_LOG.1" 40123 "5 640"
check "2 datagrams of 20 bytes from port 40127" nacct_send 40127 2 20
check "the next flush creates a new $NACCT_LOG with them" poll nacct_flow_is "$NACCT_LOG" 40127 "2 96"
check "... and only them (no line from before the rotation)" nacct_flow_is "$NACCT_LOG" 40123 "0 0"
st=$(c stat -c '%U %a' "$NACCT_LOG" 2>&1)
check "the new log belongs to nacctd, mode 600 (got '$st')" [ "$st" = "nacctd 600" ]
info "$(c ls -l /var/log/net-acct/ 2>&1 | tail -n +2 | tr '\n' ';')"
nacct_section_end

section "nacct: stop, remove and purge"
if out=$(c systemctl stop nacctd.service 2>&1); then pass "systemctl stop nacctd (SIGTERM)"
else fail "systemctl stop nacctd"; indent <<<"$out"; fi
st=$(c systemctl show -p Result -p ExecMainStatus --value nacctd.service 2>&1 | tr '\n' ' ')
check "a clean stop: Result=success, exit status 0 (got '$st')" [ "$st" = "success 0 " ]
check "the stop is in the journal (MESSAGE_ID=$NACCT_MID_STOPPED)" \
    poll nacct_journal_has $NACCT_MID_STOPPED "nacctd terminating (Terminated)" "$INV"
check "systemctl start nacctd (removed while running)" c systemctl start nacctd.service
check "nacctd.service active again" poll nacct_active
check "2 datagrams of 30 bytes from port 40128, then at once:" nacct_send 40128 2 30
if out=$(capt apt-get remove -y -q tracksuite-nacct 2>&1); then pass "apt-get remove tracksuite-nacct"
else fail "apt-get remove tracksuite-nacct"; tail -25 <<<"$out" | indent; fi
st=$(c systemctl is-active nacctd.service 2>&1)
check "nacctd.service not active (got '$st')" [ "$st" != active ]
check "no nacctd process" eval '! c pgrep -x nacctd >/dev/null'
check "the unit file is gone" eval '! c test -e /lib/systemd/system/nacctd.service'
left=$(nacct_packet_sockets)
check "no packet socket left (ss -0)${left:+ (left: $left)}" [ -z "$left" ]
check "the stop on remove wrote the last datagrams to the log (2 packets, 116 bytes)" \
    nacct_flow_is "$NACCT_LOG" 40128 "2 116"
check "remove keeps $NACCTTAB, the log and the database" \
    eval 'c test -f "$NACCTTAB" && c test -f "$NACCT_LOG" && c test -f "$NACCT_DB"'
if out=$(capt apt-get purge -y -q tracksuite-nacct 2>&1); then pass "apt-get purge tracksuite-nacct"
else fail "apt-get purge tracksuite-nacct"; tail -25 <<<"$out" | indent; fi
check "tracksuite-nacct is gone (dpkg-query)" \
    eval '! c dpkg-query -W -f="\${db:Status-Abbrev}" tracksuite-nacct 2>/dev/null | grep "^[a-z]i" >/dev/null'
check "no unit and no enablement left" eval '
    ! c test -e /etc/systemd/system/multi-user.target.wants/nacctd.service &&
    [ -z "$(c systemctl list-unit-files --no-legend nacctd.service 2>/dev/null)" ]'
check "the database is gone (/var/lib/private/tracksuite/nacct, /var/lib/tracksuite/nacct)" \
    eval '! c test -e /var/lib/private/tracksuite/nacct && ! c test -L /var/lib/tracksuite/nacct'
check "the logs are gone (/var/log/private/net-acct, /var/log/net-acct)" \
    eval '! c test -e /var/log/private/net-acct && ! c test -L /var/log/net-acct'
check "$NACCTTAB and /etc/logrotate.d/tracksuite-nacct are gone" \
    eval '! c test -e "$NACCTTAB" && ! c test -e /etc/logrotate.d/tracksuite-nacct'
check "no user nacctd (the dynamic user went with the service)" eval '! c getent passwd nacctd >/dev/null'
nacct_section_end

section "nacct: replacing net-acct"
# A stand-in for Debian's net-acct 0.71-9.1 with the parts that matter here: it ships
# /usr/sbin/nacctd, an init script enabled with update-rc.d (whose "test -x" passes with
# our nacctd in place), /etc/naccttab and /etc/logrotate.d/net-acct as conffiles, makes
# /var/log/net-acct in its postinst and deletes it on purge, as the real one does.
build_fake_netacct() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/tsnetacct.XXXXXX")
    mkdir -p "$d/DEBIAN" "$d/usr/sbin" "$d/etc/init.d" "$d/etc/logrotate.d"
    printf '#!/bin/sh\necho "net-acct stand-in: this nacctd must never run" >&2\nexit 1\n' >"$d/usr/sbin/nacctd"
    cat >"$d/etc/init.d/net-acct" <<'EOF'
#!/bin/sh
### BEGIN INIT INFO
# Provides:          net-acct
# Required-Start:    $remote_fs $syslog
# Required-Stop:     $remote_fs $syslog
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: User-mode IP accounting daemon
### END INIT INFO
DAEMON=/usr/sbin/nacctd
test -r /etc/naccttab || exit 0
test -x "$DAEMON" || exit 0
case "$1" in
  start) start-stop-daemon --start --verbose --exec "$DAEMON" ;;
  stop) start-stop-daemon --stop --verbose --exec "$DAEMON" ;;
  *) echo "Usage: /etc/init.d/net-acct {start|stop}"; exit 1 ;;
esac
EOF
    printf 'flush 300\nfdelay 60\nfile /var/log/net-acct/net-acct.log\ndumpfile /var/log/net-acct/dump\n' >"$d/etc/naccttab"
    printf '/var/log/net-acct/net-acct.log {\n  rotate 14\n  daily\n  compress\n  missingok\n}\n' >"$d/etc/logrotate.d/net-acct"
    printf '/etc/init.d/net-acct\n/etc/logrotate.d/net-acct\n/etc/naccttab\n' >"$d/DEBIAN/conffiles"
    cat >"$d/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ ! -d /var/log/net-acct ]; then mkdir /var/log/net-acct; chmod 755 /var/log/net-acct; fi
if [ "$1" = configure ]; then
  printf '820454400\t6\t192.0.2.1\t1024\t192.0.2.2\t80\t1\t40\teth0\tunknown\n' >>/var/log/net-acct/net-acct.log
  update-rc.d net-acct defaults >/dev/null
fi
EOF
    cat >"$d/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
  if test -d /var/log/net-acct; then rm -Rf /var/log/net-acct; fi
  update-rc.d net-acct remove >/dev/null
fi
EOF
    chmod 755 "$d/usr/sbin/nacctd" "$d/etc/init.d/net-acct" "$d/DEBIAN/postinst" "$d/DEBIAN/postrm"
    cat >"$d/DEBIAN/control" <<'EOF'
Package: net-acct
Version: 0.71-9.1
Architecture: all
Maintainer: tracksuite tests <tracksuite@example.org>
Section: net
Priority: optional
Description: User-mode IP accounting daemon (tracksuite system test stand-in)
 Ships /usr/sbin/nacctd, an init script and /etc/naccttab like net-acct.
EOF
    dpkg-deb --root-owner-group -Zgzip --build "$d" "$PAYLOAD/net-acct_0.71-9.1_all.deb" >/dev/null
    local rc=$?
    rm -rf "$d"
    return $rc
}
check "build the net-acct stand-in package" build_fake_netacct
apt_install "apt-get install net-acct (the stand-in)" /payload/net-acct_0.71-9.1_all.deb
check "its init script is enabled (rc links)" c sh -c 'ls /etc/rc2.d/S*net-acct >/dev/null 2>&1'
if out=$(capt apt-get install -y -q --no-install-recommends "/payload/$(basename "$NACCT_DEB")" 2>&1); then
    pass "apt-get install $(basename "$NACCT_DEB") replaces net-acct"
else
    fail "apt-get install $(basename "$NACCT_DEB") replaces net-acct"; tail -25 <<<"$out" | indent
fi
st=$(c dpkg-query -W -f='${db:Status-Abbrev}' net-acct 2>&1)
check "net-acct is removed, its configuration left (rc, got '$st')" [ "$st" = "rc " ]
check "the postinst says what to do about net-acct's leftovers" \
    eval 'grep -F "apt-get purge net-acct" <<<"$out" >/dev/null'
grep -A6 -F 'the removed net-acct left' <<<"$out" | indent
check "/usr/sbin/nacctd is ours" eval '[ "$(c dpkg -S /usr/sbin/nacctd 2>/dev/null)" = "tracksuite-nacct: /usr/sbin/nacctd" ]'
check "nacctd.service is active" poll nacct_active
c systemctl daemon-reload >/dev/null 2>&1
st=$(c systemctl is-enabled net-acct.service 2>&1)
check "net-acct's init script cannot start at boot: net-acct.service is-enabled = masked (got '$st')" \
    [ "$st" = masked ]
check "systemctl start net-acct.service is refused" eval '! c systemctl start net-acct.service >/dev/null 2>&1'
n=$(c pgrep -c -x nacctd 2>/dev/null)
check "exactly one nacctd runs (got ${n:-0})" [ "${n:-0}" = 1 ]
check "the old log line is still in $NACCT_LOG (systemd moved the directory into /var/log/private)" \
    eval 'c grep -F "820454400" "$NACCT_LOG" >/dev/null && [ "$(c readlink /var/log/net-acct)" = private/net-acct ]'
out=$(c logrotate -d /etc/logrotate.conf 2>&1)
check "as the postinst warns, logrotate now finds a duplicate entry" \
    eval 'grep -F "duplicate log entry for $NACCT_LOG" <<<"$out" >/dev/null'
check "systemctl stop nacctd; apt-get purge net-acct; systemctl start nacctd (README.Debian)" eval '
    c systemctl stop nacctd.service && capt apt-get purge -y -q net-acct >/dev/null 2>&1 &&
    c systemctl start nacctd.service'
out=$(c logrotate -d /etc/logrotate.conf 2>&1); rc=$?
check "logrotate -d /etc/logrotate.conf: no error left" eval '[ $rc = 0 ] && ! grep -i "error" <<<"$out" >/dev/null'
check "the old log line survived net-acct's purge" c grep -qF 820454400 "$NACCT_LOG"
check "naccttab: flush 2, fdelay 1, dontignore 127.0.0.2" c sed -i \
    -e 's/^flush .*/flush 2/' -e 's/^fdelay .*/fdelay 1/' \
    -e 's/^#dontignore .*/dontignore 127.0.0.2 255.255.255.255/' "$NACCTTAB"
check "systemctl restart nacctd" c systemctl restart nacctd.service
check "2 datagrams of 10 bytes from port 40129" nacct_send 40129 2 10
check "... are appended to the old log" poll nacct_flow_is "$NACCT_LOG" 40129 "2 76"
if out=$(capt apt-get purge -y -q tracksuite-nacct 2>&1); then pass "apt-get purge tracksuite-nacct"
else fail "apt-get purge tracksuite-nacct"; tail -25 <<<"$out" | indent; fi
left=$(c sh -c 'ls -d /etc/naccttab /etc/init.d/net-acct /etc/rc2.d/S*net-acct /lib/systemd/system/net-acct.service /var/log/net-acct /var/log/private/net-acct "$1" 2>/dev/null' sh "$NACCTTAB")
check "nothing of either package left${left:+ (left: $(tr '\n' ' ' <<<"$left"))}" [ -z "$left" ]
nacct_section_end
else
    echo
    info "no tracksuite-nacct_*.deb in $DEB_DIR: nacct checks not run"
fi

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
