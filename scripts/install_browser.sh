#!/usr/bin/env bash
# Install Debian's chromium for the browser test (tests/web/test_web_browser.py), if missing.
#
# Idempotent: does nothing when chromium is already on PATH. `make test` runs it only when
# chromium is missing, and never fails the build because of it: without apt-get (or without
# root) this script exits non-zero with a message, and the browser test skips saying why.
# playwright drives this chromium through executable_path; its own browser download is not
# used (it needs a CDN that this project's machines do not reach).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium is installed: $(command -v chromium)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: apt-get is not available; install chromium by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install_browser: need root (or passwordless sudo) to apt-get install chromium" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
echo "installed $(chromium --version 2>/dev/null || echo chromium)"
