"""`./limelight test` refuses to start without Chromium (the audit report's tests drive it),
naming the command that installs it, rather than letting those tests fail one by one."""

import os
import subprocess
import sys

from runtime.config import ROOT


def test_limelight_test_without_chromium_says_how_to_install_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "AUDIT_REPORT_CHROMIUM"}
    env["PATH"] = str(tmp_path)  # an empty folder: no chromium, chromium-browser or google-chrome
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "test", "--collect-only", "-q", "tests/runtime/test_test_command.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the tests need Chromium" in result.stdout
    assert "apt-get install chromium" in result.stdout
