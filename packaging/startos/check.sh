#!/usr/bin/env bash
# The StartOS package checked offline against the real SDK from the npm
# registry: `npm ci`, the TypeScript type-check (manifest, daemons, health
# checks, interfaces, backups, actions, dependencies against the SDK's own
# types) and the SDK's bundled lint. Then proof that the check can fail: a
# copy with a wrong architecture in the manifest and one with a daemon
# missing its command must both be refused.
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund --loglevel=error
npm run --silent check
npm run --silent lint
echo "   type-check and lint: ok"

broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
expect_refused() {
  local what=$1 file=$2 from=$3 to=$4
  rm -rf "$broken/pkg" && mkdir -p "$broken/pkg"
  cp -r startos tsconfig.json package.json "$broken/pkg/"
  ln -s "$PWD/node_modules" "$broken/pkg/node_modules"
  grep -qF "$from" "$broken/pkg/$file" || { echo "check.sh: $from is not in $file" >&2; exit 1; }
  python3 -c 'import sys; p, a, b = sys.argv[1:]; t = open(p).read(); open(p, "w").write(t.replace(a, b, 1))' "$broken/pkg/$file" "$from" "$to"
  if (cd "$broken/pkg" && npx tsc --noEmit -p . >/dev/null 2>&1); then
    echo "the type-check passed a package with $what" >&2
    exit 1
  fi
}
expect_refused "an unknown architecture" startos/manifest/index.ts "arch: ['x86_64', 'aarch64']" "arch: ['x86_64', 'sparc']"
expect_refused "a daemon without its command" startos/main.ts "command: ['/ledgersys', 'serve'], " ""
expect_refused "an action on a volume that does not exist" startos/utils.ts "volumeId: 'main'" "volumeId: 'nosuch'"
echo "   broken copies refused: unknown architecture, daemon without a command, unknown volume"
