#!/usr/bin/env bash
# A base image for `make image` built from Debian's packages alone, for machines that reach
# Debian's mirrors and PyPI but not Docker Hub:
#   scripts/base-image.sh && make image PYTHON_IMAGE=tablium-base:bookworm
# Debian bookworm (minbase) with Python 3.11, its venv module and headers, `python` on PATH,
# and this machine's extra CA certificates (/usr/local/share/ca-certificates: a proxy that
# inspects TLS), so pip and apt inside the build trust what the host trusts. Needs root,
# debootstrap (installed when missing) and a running Docker engine.
set -euo pipefail
TAG=${1:-tablium-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOTFS=$(mktemp -d /tmp/tablium-rootfs.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
fi
chroot "$ROOTFS" /bin/sh -euc "
    echo 'deb $MIRROR bookworm main' > /etc/apt/sources.list
    apt-get update -q
    apt-get install -y -q --no-install-recommends python3.11 python3.11-venv python3.11-dev ca-certificates
    update-ca-certificates
    ln -sf /usr/bin/python3.11 /usr/local/bin/python
    ln -sf /usr/bin/python3.11 /usr/local/bin/python3
    apt-get clean
    rm -rf /var/lib/apt/lists/*
"
: > "$ROOTFS/etc/resolv.conf"
tar -C "$ROOTFS" -c . | docker import - "$TAG"
echo "built $TAG"
