#!/usr/bin/env bash
# Peers of the alarm/history tests: openssl (makes the throw-away certificate of the local SMTP
# server the e-mail action is tested against) and sqlite3 (the independent integrity check of the
# history file). Idempotent: installs only what is missing.
set -euo pipefail

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)

if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
