#!/bin/bash
# build-deb.sh - build the .debs from the working tree (committed or not, ignored files
# left out) in a scratch copy, check them with lintian, and copy them to OUTDIR.
#
#   debian/build-deb.sh [OUTDIR]
#
# Exit status: 0 built and lintian-clean, 1 build or lintian failure, 77 a required tool
# or build dependency is missing (meson's "skipped").
set -euo pipefail

srcdir=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
outdir=${1:-}

skip() {
        echo "build-deb: SKIP: $*" >&2
        exit 77
}

for tool in dpkg-buildpackage dpkg-checkbuilddeps dpkg-parsechangelog lintian; do
        command -v "$tool" >/dev/null ||
                skip "'$tool' not found; install it with: apt-get install dpkg-dev debhelper lintian"
done
if ! missing=$(cd "$srcdir" && dpkg-checkbuilddeps 2>&1); then
        skip "unmet build dependencies: ${missing##*: }; install them with: apt-get build-dep $srcdir"
fi

version=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version)
work=$(mktemp -d "${TMPDIR:-/tmp}/tracksuite-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tracksuite-$version

# The files git knows about plus new files not ignored, so uncommitted work is built too;
# build directories and other ignored files stay out. Without git, everything but build*/.
mkdir -p "$tree"
if git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
                tar --null -T - -cf -) | tar -C "$tree" -xf -
else
        tar -C "$srcdir" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$tree" -xf -
fi

echo "build-deb: building tracksuite $version in $tree"
if ! (cd "$tree" && dpkg-buildpackage -us -uc -b -jauto) >"$work/build.log" 2>&1; then
        tail -n 60 "$work/build.log" >&2
        echo "build-deb: dpkg-buildpackage failed (last 60 lines above)" >&2
        exit 1
fi

changes=$(ls "$work"/tracksuite_"${version}"_*.changes)
rc=0
echo "build-deb: lintian --pedantic --display-info on $(basename "$changes")"
lintian --pedantic --display-info --fail-on error,warning "$changes" || rc=1

# The -dbgsym packages stay behind: the system tests install what a user would.
debs=()
for d in "$work"/*.deb; do
        case $d in *-dbgsym_*) ;; *) debs+=("$d") ;; esac
done
if [ -n "$outdir" ]; then
        mkdir -p "$outdir"
        cp "${debs[@]}" "$outdir"/
        for d in "${debs[@]}"; do echo "$outdir/$(basename "$d")"; done
else
        echo "build-deb: no OUTDIR given; the packages were:" >&2
        for d in "${debs[@]}"; do echo "  $(basename "$d")" >&2; done
fi
[ $rc = 0 ] || echo "build-deb: lintian reported errors or warnings" >&2
exit $rc
