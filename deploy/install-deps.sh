#!/bin/sh
# install-deps.sh — makes sure the Debian packages monas builds and tests with are
# present. As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails, so `make` stops with a clear message.
set -eu

PKGS="build-essential pkg-config libmicrohttpd-dev libcjson-dev libsqlite3-dev \
libuv1-dev libopenblas-dev liblapacke-dev check libcurl4-openssl-dev curl"
[ "${1:-}" = "--with-test-tools" ] && PKGS="$PKGS valgrind sqlite3 python3-yaml iproute2"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    echo "install-deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
else
    echo "install-deps: missing Debian packages:$missing" >&2
    echo "install-deps: run: sudo apt-get install -y$missing" >&2
    exit 1
fi
