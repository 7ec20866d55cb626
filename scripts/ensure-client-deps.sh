#!/usr/bin/env bash
# What the client tests need besides Python: clients/js/node_modules (npm ci from the lock
# file, only when the lock file changed since the last install: no network otherwise) and
# headless Chromium from Debian (scripts/ensure-browser.sh). The browser tests never download
# a browser of their own.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_MAJOR_MIN=20
JS_DIR=clients/js
STAMP=$JS_DIR/node_modules/.tablium-installed

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "the client tests need Node.js $NODE_MAJOR_MIN or newer with npm on PATH" >&2
    exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt "$NODE_MAJOR_MIN" ]; then
    echo "the client tests need Node.js $NODE_MAJOR_MIN or newer (found $(node --version))" >&2
    exit 1
fi
if [ ! -f "$STAMP" ] || [ "$JS_DIR/package-lock.json" -nt "$STAMP" ]; then
    echo "installing clients/js node packages (npm ci)"
    (cd "$JS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$STAMP"
fi
scripts/ensure-browser.sh
