"""`limelight status` reports the running platform, component by component."""

import os
import subprocess
import sys

import pytest

from runtime.config import ROOT

pytestmark = pytest.mark.integration


def test_status_reports_every_component_up_with_its_version(platform):
    s = platform.s
    env = {
        **os.environ,
        "LIMELIGHT_STATE_DIR": str(s.state_dir),
        "LIMELIGHT_KAFKA_PORT": str(s.kafka_port),
        "LIMELIGHT_GATEWAY_PORT": str(s.gateway_port),
        "LIMELIGHT_DISCOVERY_PORT": str(s.discovery_port),
        "LIMELIGHT_AUDIT_PORT": str(s.audit_port),
        "LIMELIGHT_ATTRIBUTION_PORT": str(s.attribution_port),
    }
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "status"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert set(rows) == {"kafka", "postgresql", "discovery", "audit", "attribution", "gateway"}
    assert all(row[1] == "up" for row in rows.values()), result.stdout
    assert rows["kafka"][-1].startswith("4.1.")
    assert rows["postgresql"][-1].startswith("16.")
