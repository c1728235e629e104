#!/usr/bin/env bash
# Installs bun, the JavaScript runtime Reflex builds the web app with, into .tools/ from the npm
# registry. Reflex's own installer downloads bun from GitHub, which is unreachable on the
# project's machines; the npm package `bun` ships the same binary. Skips when the pinned version
# is already there, so `make setup` can run it every time.
#
# The web app finds it through REFLEX_BUN_PATH (cli/run.py sets it; see webapp/tooling.py).
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION="${BUN_VERSION:-1.4.5}"  # >= 1.4.4; bump here and nowhere else
PREFIX=".tools/bun"
BUN="$PREFIX/node_modules/bun/bin/bun.exe"

if test -x "$BUN" && test "$("$BUN" --version 2>/dev/null)" = "$BUN_VERSION"; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm is needed to install bun (Debian: apt-get install -y npm)" >&2
  exit 1
fi
echo "Installing bun $BUN_VERSION from the npm registry into $PREFIX"
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-save --no-audit --no-fund --loglevel=error "bun@$BUN_VERSION"
"$BUN" --version >/dev/null
