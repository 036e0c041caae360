#!/usr/bin/env bash
# Installs curl, the independent client that reads the web service's gzipped live stream
# (tests/web/test_live_gzip.py: curl --compressed inflates it with its own zlib).
set -euo pipefail

if ! command -v curl >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null
fi
