"""`./limelight reliability` works from a clean clone: a short run of the documented command (one
service killed under load, the poison and triple-delivery checks; no fuzzer, no matrix) holds
every guarantee and writes its table as JSON. The whole suite is run on purpose, not here."""

import json
import os
import subprocess
import sys

import pytest

from runtime.config import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.timeout(600)
def test_a_short_reliability_run_holds_every_guarantee(tmp_path):
    base = int(os.environ.get("LIMELIGHT_TEST_PORT_BASE", "18000")) + 300
    out = tmp_path / "reliability.json"
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "reliability", "--port-base", str(base), "--state", "reliability-test", "--only", "audit",
         "--settle", "3", "--orders", "10", "--examples", "0", "--skip-matrix", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=570,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    assert "ALL GUARANTEES HELD" in result.stdout
    report = json.loads(out.read_text())
    assert report["passed"] is True
    rows = {row["check"]: row for row in report["rows"]}
    assert rows["kill -9 audit"]["faults"] == 1 and rows["kill -9 audit"]["recovery"] is not None
    assert rows["kill -9 audit"]["acknowledged"] > 0
    assert all(row["errors_500"] == 0 and row["lost"] in (0, None) and row["duplicated"] in (0, None) for row in rows.values())
    assert rows["poison → dead letters → fixed, replayed"]["passed"] is True
    assert rows["every webhook ×3, shuffled"]["passed"] is True
