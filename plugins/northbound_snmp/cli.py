"""``cellgate snmp mib``: print CELLGATE-MIB, optionally under a vendor's enterprise number."""

from __future__ import annotations

import argparse
import sys
from typing import ClassVar

from gateway.core.components import CliCommand
from plugins.northbound_snmp.config import DOCUMENTATION_PEN
from plugins.northbound_snmp.mib import mib_text


class SnmpCommand(CliCommand):
    """SNMP helpers; today one: the MIB file an NMS imports."""

    name: ClassVar[str] = "snmp"
    help: ClassVar[str] = "SNMP agent tools (print the MIB)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="snmp_command", required=True)
        p = sub.add_parser("mib", help="print CELLGATE-MIB (SMIv2) for your NMS")
        p.add_argument(
            "--enterprise-number",
            type=int,
            default=DOCUMENTATION_PEN,
            metavar="N",
            help="IANA Private Enterprise Number the agent is configured with "
            f"(enterprise_number; default {DOCUMENTATION_PEN}, the RFC 5612 placeholder)",
        )

    def run(self, args: argparse.Namespace) -> int:
        if args.snmp_command == "mib":
            if not 1 <= args.enterprise_number <= 2**31 - 1:
                print("enterprise number must be between 1 and 2147483647", file=sys.stderr)
                return 2
            sys.stdout.write(mib_text(args.enterprise_number))
            return 0
        return 2
