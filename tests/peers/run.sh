#!/usr/bin/env bash
# Cross-check Ledgersys's yearly totals against RP2 1.7.2 and BittyTax 0.6.0.
#
#   tests/peers/run.sh target/debug/ledgersys [crosscheck.py options, e.g. --seed 7 --histories 200]
#   tests/peers/run.sh --bench target/release/ledgersys [bench.py options, e.g. --rows 20000]
#
# Creates (or reuses) a virtualenv with the two peers from PyPI, then runs
# crosscheck.py with it (with --bench: the speed benchmark bench.py, see
# docs/crosscheck.md). Safe to run again: the virtualenv is only touched when
# it is missing or its pinned requirements changed. Set CROSSCHECK_VENV to put
# the virtualenv elsewhere (default: target/peers-venv, which git ignores).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

script="crosscheck.py"
build="cargo build"
if [[ "${1:-}" == "--bench" ]]; then
    script="bench.py"
    build="cargo build --release"
    shift
fi
if [[ $# -lt 1 || "$1" == -* ]]; then
    echo "usage: $0 PATH/TO/ledgersys [crosscheck.py options]" >&2
    echo "       $0 --bench PATH/TO/ledgersys [bench.py options]" >&2
    exit 2
fi
ledgersys="$1"
shift
if [[ ! -x "$ledgersys" ]]; then
    echo "$0: $ledgersys is not an executable ledgersys binary (build it with: $build)" >&2
    exit 2
fi

venv="${CROSSCHECK_VENV:-$repo/target/peers-venv}"
stamp="$venv/.crosscheck-requirements"
wanted="$(cat "$here/requirements.txt" "$here/constraints.txt")"

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv"; then
        echo "$0: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
        exit 2
    fi
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    echo "installing the peers into $venv ..." >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$here/requirements.txt" -c "$here/constraints.txt"
    printf '%s' "$wanted" > "$stamp"
fi

exec "$venv/bin/python" "$here/$script" --ledgersys "$ledgersys" "$@"
