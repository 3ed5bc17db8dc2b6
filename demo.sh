#!/bin/bash
# demo.sh - on a fresh Debian 12 machine, as root (no sudo needed): install build dependencies,
# build the .deb packages, install them and show the four components at work, a few lines
# each (tools/dev/demo-steps): a program wrapped by tracker-wrap, run by an ordinary user and
# counted (journalctl, tracker-report); a login report stored by trackalert; a small capture
# accounted by nacctd -r (its log line, nacct-report); a tracked trackle shell that edits a
# file in /etc, and its diff.
# On a host whose PID 1 is systemd the packages are installed on the host itself (remove
# them with "apt-get purge 'tracksuite-*'"); elsewhere (these machines, containers) a
# systemd container is booted with systemd-nspawn and the same steps run inside it.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "demo.sh: run it as root (it installs packages)" >&2; exit 1; }
cd "$(dirname "$(readlink -f "$0")")"

tools/dev/install-deps
debs=$PWD/demo-run/debs
rm -rf "$debs"
mkdir -p "$debs"
echo "==> building the packages (debian/build-deb.sh)"
debian/build-deb.sh "$debs" > demo-run/build.log 2>&1 || {
        tail -30 demo-run/build.log
        exit 1
}
ls "$debs"

if [ -d /run/systemd/system ]; then
        exec tools/dev/demo-steps "$debs"
fi
echo "==> PID 1 is not systemd here: booting a systemd container (tests/system/nspawn-boot)"
exec tests/system/nspawn-boot tools/dev/demo-steps "$debs"
