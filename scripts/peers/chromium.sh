#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the web UI's Playwright end-to-end tests
# (Playwright's own browser download cannot work here, so the tests use /usr/bin/chromium).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# Fonts: without them the screenshots show boxes instead of letters.
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)

if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
