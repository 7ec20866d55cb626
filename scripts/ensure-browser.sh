#!/usr/bin/env bash
# The browser tests' headless Chromium: Debian's package, never a test tool's own download.
# Installs it with apt-get when it is absent and we are root; otherwise says what to install.
set -euo pipefail

CHROMIUM=${TABLIUM_CHROMIUM:-/usr/bin/chromium}

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
    exit 0
fi
echo "the browser tests need Chromium at $CHROMIUM (Debian: apt-get install chromium," >&2
echo "or set TABLIUM_CHROMIUM to another Chromium binary)" >&2
exit 1
