#!/usr/bin/env bash
# Modbus peers for the tests: mbpoll (an independent Modbus RTU/TCP master) and socat (pty pairs,
# TCP-to-serial bridges). Idempotent: installs only what is missing.
set -euo pipefail

missing=()
command -v mbpoll >/dev/null 2>&1 || missing+=(mbpoll)
command -v socat >/dev/null 2>&1 || missing+=(socat)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
