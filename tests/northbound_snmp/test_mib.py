"""CELLGATE-MIB compiles with net-snmp and with pysmi, names every object the agent serves,
and ``cellgate snmp mib`` prints it under the enterprise number asked for."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from plugins.northbound_snmp import mib
from tests.northbound_snmp.conftest import HERE, MIB_DIRS, V2C, net_snmp
from tests.northbound_snmp.synthetic import SnapshotHolder, snapshot

SHIPPED = HERE.parents[1] / "plugins/northbound_snmp/MIB"


async def test_net_snmp_compiles_the_mib_without_complaint() -> None:
    rc, out, err = await net_snmp("snmptranslate", "-M", MIB_DIRS, "-m", "CELLGATE-MIB", "-Tp")
    assert rc == 0
    assert err.strip() == ""
    assert "cgUnitTable" in out
    assert "cgAlarmRaised" in out

    root = ".".join(map(str, mib.module_root(32473)))
    names = {
        "cgUnitVoltage": f".{root}.1.3.1.{mib.UNIT_VOLTAGE}",
        "cgUnitStatus": f".{root}.1.3.1.{mib.UNIT_STATUS}",
        "cgStringMode": f".{root}.1.2.1.{mib.STR_MODE}",
        "cgSiteSnapshotAge": f".{root}.1.1.{mib.SITE_AGE}",
        "cgAlarmState": f".{root}.1.4.1.{mib.ALARM_STATE}",
        "cgAlarmCleared": f".{root}.0.{mib.ALARM_CLEARED}",
    }
    for name, oid in names.items():
        rc, out, err = await net_snmp(
            "snmptranslate", "-M", MIB_DIRS, "-m", "CELLGATE-MIB", "-On", f"CELLGATE-MIB::{name}"
        )
        assert (rc, out.strip()) == (0, oid), err


def test_pysmi_compiles_the_mib(tmp_path: Path) -> None:
    from pysmi.codegen import JsonCodeGen
    from pysmi.compiler import MibCompiler
    from pysmi.parser import SmiV2Parser
    from pysmi.reader import FileReader
    from pysmi.searcher import StubSearcher
    from pysmi.writer import CallbackWriter

    out: dict[str, str] = {}
    compiler = MibCompiler(
        SmiV2Parser(), JsonCodeGen(), CallbackWriter(lambda name, data, ctx: out.__setitem__(name, data))
    )
    # the stand-in base modules give pysmi the imported symbols; only CELLGATE-MIB is generated
    compiler.add_sources(FileReader(str(SHIPPED)), FileReader(str(HERE / "mibs")))
    compiler.add_searchers(StubSearcher(*JsonCodeGen.baseMibs))
    status = compiler.compile("CELLGATE-MIB", noDeps=True, rebuild=True, genTexts=True)
    assert status["CELLGATE-MIB"] == "compiled", getattr(status["CELLGATE-MIB"], "error", None)
    doc = json.loads(out["CELLGATE-MIB"])
    assert doc["cgUnitVoltage"]["oid"] == "1.3.6.1.4.1.32473.1.3.1.5"
    assert doc["cgUnitStatus"]["syntax"]["constraints"]["enumeration"]["stale"] == 5
    assert doc["cgAlarmRaised"]["class"] == "notificationtype"


async def test_every_served_object_is_named_by_the_mib(start_agent) -> None:
    svc = await start_agent(SnapshotHolder(snapshot(t=time.time())))
    rc, out, err = await net_snmp(
        "snmpwalk",
        *V2C,
        "-M",
        MIB_DIRS,
        "-m",
        "CELLGATE-MIB",
        f"udp:127.0.0.1:{svc.address[1]}",
        "1.3.6.1.4.1.32473",
    )
    assert rc == 0, err
    lines = [ln for ln in out.splitlines() if " = " in ln]
    assert len(lines) > 48 * 15
    unnamed = [ln for ln in lines if not ln.startswith("CELLGATE-MIB::")]
    assert unnamed == []
    assert any(ln.startswith("CELLGATE-MIB::cgUnitStatus.3 = INTEGER: ok(1)") for ln in lines)


async def test_cli_prints_the_mib_under_the_enterprise_number_asked_for(
    cellgate_bin: str, tmp_path: Path
) -> None:
    default = subprocess.run([cellgate_bin, "snmp", "mib"], capture_output=True, text=True, check=True)
    assert default.stdout == (SHIPPED / "CELLGATE-MIB.txt").read_text()
    vendor = subprocess.run(
        [cellgate_bin, "snmp", "mib", "--enterprise-number", "4242"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / "CELLGATE-MIB.txt").write_text(vendor.stdout)
    rc, out, err = await net_snmp(
        "snmptranslate",
        "-M",
        f"{tmp_path}:{HERE / 'mibs'}",
        "-m",
        "CELLGATE-MIB",
        "-On",
        "CELLGATE-MIB::cgUnitVoltage",
    )
    assert (rc, out.strip()) == (0, ".1.3.6.1.4.1.4242.1.3.1.5"), err
