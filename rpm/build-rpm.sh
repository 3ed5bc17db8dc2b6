#!/bin/bash
# build-rpm.sh - build the RPMs from the working tree (committed or not, ignored files
# left out) with rpmbuild in a scratch %_topdir, check spec and packages with rpmlint,
# and copy the RPMs to OUTDIR.
#
#   rpm/build-rpm.sh [OUTDIR]
#
# Works on an RPM system and on Debian (apt-get install rpm rpmlint): the spec carries
# fallbacks for the meson and systemd macros, and --nodeps skips the BuildRequires check,
# which an rpm database without the build tools cannot satisfy.
#
# Exit status: 0 built and no rpmlint errors, 1 build failure or rpmlint errors, 77 a
# required tool is missing (meson's "skipped").
set -euo pipefail

srcdir=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
outdir=${1:-}
spec=$srcdir/rpm/tracksuite.spec

skip() {
        echo "build-rpm: SKIP: $*" >&2
        exit 77
}

for tool in rpmbuild rpmspec rpmlint; do
        command -v "$tool" >/dev/null ||
                skip "'$tool' not found; install it with: apt-get install rpm rpmlint (dnf install rpm-build rpmlint)"
done
for tool in meson ninja scdoc pkg-config; do
        command -v "$tool" >/dev/null ||
                skip "'$tool' not found; the build needs meson ninja-build scdoc pkg-config and the -dev packages"
done

# Debian's rpm has no distribution policy; the spec adds a debuginfo package there, and
# find-debuginfo needs eu-strip to strip the binaries (rpmlint warns otherwise).
if [ "$(rpm --eval '%{_vendor}')" = debian ] && ! command -v eu-strip >/dev/null; then
        echo "build-rpm: eu-strip not found, binaries stay unstripped; apt-get install elfutils" >&2
fi

name=$(rpmspec -q --srpm --qf '%{NAME}' "$spec" 2>/dev/null)
version=$(rpmspec -q --srpm --qf '%{VERSION}' "$spec" 2>/dev/null)
meson_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$srcdir/meson.build" | head -n 1)
if [ "$version" != "$meson_version" ]; then
        echo "build-rpm: spec version $version differs from meson.build's $meson_version" >&2
        exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tracksuite-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT
top=$work/rpmbuild
mkdir -p "$top"/{BUILD,BUILDROOT,RPMS,SOURCES,SPECS,SRPMS}

# The files git knows about plus new files not ignored, so uncommitted work is built too;
# build directories and other ignored files stay out. Without git, everything but build*/.
stage=$work/$name-$version
mkdir -p "$stage"
if git -C "$srcdir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$srcdir" && git ls-files -z --cached --others --exclude-standard |
                while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
                tar --null -T - -cf -) | tar -C "$stage" -xf -
else
        tar -C "$srcdir" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$stage" -xf -
fi
tar -C "$work" --owner=0 --group=0 -czf "$top/SOURCES/$name-$version.tar.gz" "$name-$version"
cp "$spec" "$top/SPECS/"

echo "build-rpm: rpmbuild -bb $name $version in $top"
if ! rpmbuild -bb --nodeps --define "_topdir $top" "$top/SPECS/$(basename "$spec")" \
                >"$work/build.log" 2>&1; then
        tail -n 60 "$work/build.log" >&2
        echo "build-rpm: rpmbuild failed (last 60 lines above)" >&2
        exit 1
fi

mapfile -t rpms < <(find "$top/RPMS" -name '*.rpm' ! -name '*-debuginfo-*' ! -name '*-debugsource-*' | sort)

# rpmlint exits non-zero on errors only (badness); warnings are printed and reported.
rc=0
echo "build-rpm: rpmlint -c rpm/rpmlint.toml on the spec and ${#rpms[@]} packages"
rpmlint -c "$srcdir/rpm/rpmlint.toml" "$spec" "${rpms[@]}" || rc=1

if [ -n "$outdir" ]; then
        mkdir -p "$outdir"
        cp "${rpms[@]}" "$outdir"/
        for r in "${rpms[@]}"; do echo "$outdir/$(basename "$r")"; done
else
        echo "build-rpm: no OUTDIR given; the packages were:" >&2
        for r in "${rpms[@]}"; do echo "  $(basename "$r")" >&2; done
fi
[ $rc = 0 ] || echo "build-rpm: rpmlint reported errors" >&2
exit $rc
