#!/usr/bin/env bash
# Peers for the SNMP and syslog tests and bench: net-snmp tools, snmptrapd, snmpd,
# rsyslog with its TLS driver, and openssl for the test certificate. Installs only what is missing.
set -euo pipefail

need=()
command -v snmpget >/dev/null 2>&1 || need+=(snmp)
command -v snmptrapd >/dev/null 2>&1 || need+=(snmptrapd)
command -v snmpd >/dev/null 2>&1 || need+=(snmpd)
command -v rsyslogd >/dev/null 2>&1 || need+=(rsyslog)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || need+=(rsyslog-gnutls)
command -v openssl >/dev/null 2>&1 || need+=(openssl)

if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
