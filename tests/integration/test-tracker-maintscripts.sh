#!/bin/bash
# test-tracker-maintscripts.sh - the tracksuite-tracker maintainer scripts' file handling, run
# against a scratch root through DPKG_ROOT (as dpkg does for chrootless operation): purge
# forgets what "tracker-wrap add" recorded (local.list, the plain backend's state), so a
# later install does not wrap it again, and keeps the lists an admin or a site package
# wrote; remove keeps everything. Usage: test-tracker-maintscripts.sh SOURCE-ROOT
set -euo pipefail

src=${1:?usage: $0 SOURCE-ROOT}
postrm=$src/debian/tracksuite-tracker.postrm
root=$(mktemp -d /tmp/test-maintscripts-XXXXXX)
trap 'rm -rf "$root"' EXIT
failures=0

check() {
        local what=$1
        shift
        if "$@"; then
                echo "ok: $what"
        else
                echo "FAIL: $what"
                failures=$((failures + 1))
        fi
}

setup() {
        rm -rf "${root:?}"/*
        mkdir -p "$root/etc/tracksuite/tracked.d" "$root/var/lib/tracksuite"
        printf '/usr/bin/vim\n/usr/bin/nano force\n' >"$root/etc/tracksuite/tracked.d/local.list"
        printf '/usr/bin/vim\n' >"$root/var/lib/tracksuite/wrapped.list"
}

setup
DPKG_ROOT=$root sh "$postrm" remove
check "remove keeps local.list" test -f "$root/etc/tracksuite/tracked.d/local.list"

DPKG_ROOT=$root sh "$postrm" purge
check "purge deletes local.list" test ! -e "$root/etc/tracksuite/tracked.d/local.list"
check "purge deletes the plain backend's state" test ! -e "$root/var/lib/tracksuite/wrapped.list"
check "purge removes the emptied directories" test ! -e "$root/etc/tracksuite"
check "and /var/lib/tracksuite" test ! -e "$root/var/lib/tracksuite"

setup
printf '/opt/site/bin/tool\n' >"$root/etc/tracksuite/tracked.d/site.list"
echo 'Server=track' >"$root/etc/tracksuite/other.conf"
DPKG_ROOT=$root sh "$postrm" purge
check "purge deletes local.list next to a site list" test ! -e "$root/etc/tracksuite/tracked.d/local.list"
check "purge keeps a list the admin wrote" test -f "$root/etc/tracksuite/tracked.d/site.list"
check "purge keeps other files" test -f "$root/etc/tracksuite/other.conf"

# Nothing outside the scratch root was touched: the script only uses DPKG_ROOT paths.
check "the script names no path without \${DPKG_ROOT}" \
        bash -c "! grep -E '^[^#]*[[:space:]\"]/(etc|var)/' '$postrm'"

[[ $failures -eq 0 ]] || exit 1
echo "all checks passed"
