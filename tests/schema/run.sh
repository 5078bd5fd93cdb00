#!/usr/bin/env bash
# The API against its own OpenAPI document: schemathesis (from PyPI, in a
# virtualenv under target/) sends generated requests to the real binary on
# loopback, signed in as the owner with some books imported, and fails on
# any 5xx or any answer that does not match the document.
#
#   tests/schema/run.sh [BINARY]     (default: target/debug/ledgersys)
#
# SCHEMA_EXAMPLES sets the examples per operation (default 15).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
binary="${1:-$repo/target/debug/ledgersys}"
venv="${SCHEMA_VENV:-$repo/target/schema-venv}"
version="4.32.5"

if [[ ! -x "$venv/bin/schemathesis" ]] || [[ "$(cat "$venv/.version" 2>/dev/null)" != "$version" ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
    echo "$version" > "$venv/.version"
fi
exec "$venv/bin/python" "$repo/tests/schema/drive.py" "$binary" "$venv/bin/schemathesis"
