#!/bin/bash
# demo.sh - on a fresh Debian 12 machine, as root: install dependencies, build, and run the
# tracker for real: trackerd socket-activated on loopback with its SQLite state, a few real
# programs wrapped and run through the shim by two users, then tracker-report.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

tools/dev/install-deps
build=${BUILD_DIR:-build}
[ -d "$build" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null

run=$PWD/demo-run
rm -rf "$run"
mkdir -p "$run/state" "$run/bin"
chmod 755 "$run" "$run/bin"
port=1738
if ss -Hlun "sport = :$port" 2>/dev/null | grep -q .; then
        port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
server=127.0.0.1:$port
printf '[Collector]\nLogUses=yes\n' > "$run/trackerd.conf"

echo "==> trackerd, socket-activated on $server (state in $run/state)"
systemd-socket-activate --datagram -l "$server" --fdname=tracker \
        -E STATE_DIRECTORY="$run/state" -E TRACKSUITE_LOG_FIELDS=1 \
        "$build/services/trackerd/trackerd" --config "$run/trackerd.conf" \
        > "$run/trackerd.log" 2>&1 &
activator=$!
trap 'kill $activator 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "Listening on" "$run/trackerd.log" && break; sleep 0.05; done

echo "==> wrapping date, uname and id: NAME -> tracker shim, NAME.t% = the real binary"
for p in /bin/date /bin/uname /usr/bin/id; do
        name=$(basename "$p")
        cp "$p" "$run/bin/$name.t%"
        ln -s "$PWD/$build/shim/tracker" "$run/bin/$name"
done
ls -l "$run/bin"

printf '[Tracker]\nServer=%s\n' "$server" > "$run/tracker.conf"
chmod 644 "$run/tracker.conf"
echo "==> tracker.conf for the wrappers:"; sed 's/^/    /' "$run/tracker.conf"
export TRACKSUITE_TRACKER_CONFIG=$run/tracker.conf
export PATH=$run/bin:$PATH
echo "==> running them as root and as nobody"
date; date -u; uname -sr; id -un
setpriv --reuid=nobody --regid=nogroup --clear-groups env PATH="$PATH" sh -c 'id; date +%F; uname -m'
expected=7

for _ in $(seq 200); do
        n=$(sqlite3 "file:$run/state/tracker.db?mode=ro" 'SELECT count(*) FROM uses' 2>/dev/null || echo 0)
        [ "$n" -ge "$expected" ] && break
        sleep 0.05
done
echo "==> $n uses stored in $run/state/tracker.db; trackerd's log:"
sed 's/^/    /' "$run/trackerd.log"

report=$build/tools/tracker-report
echo "==> tracker-report programs"
"$report" --db "$run/state/tracker.db" programs
echo "==> tracker-report users"
"$report" --db "$run/state/tracker.db" users
echo "==> tracker-report daily date"
"$report" --db "$run/state/tracker.db" daily date

kill -TERM $activator
wait $activator || true
trap - EXIT
echo "==> trackerd stopped: $(tail -1 "$run/trackerd.log")"
