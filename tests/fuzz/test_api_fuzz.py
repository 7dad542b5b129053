"""A bounded schemathesis run over the gateway's merged OpenAPI document, with every check.

Every operation the gateway documents is fuzzed, so a route added later is covered without a
new test. Bounded (examples per operation, fixed seed) so it is part of every suite run; set
LIMELIGHT_FUZZ_EXAMPLES and LIMELIGHT_FUZZ_SEED for a deeper or different run on purpose.
Which checks run and why: docs/decisions/0009-api-contract-is-tested-by-fuzzing.md.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.config import ROOT

pytestmark = [pytest.mark.integration]

EXAMPLES = os.environ.get("LIMELIGHT_FUZZ_EXAMPLES", "15")
SEED = os.environ.get("LIMELIGHT_FUZZ_SEED", "20261126")


def test_every_documented_operation_survives_the_fuzzer(platform):
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "--no-color", "run", f"{platform.s.url('gateway')}/openapi.json",
        "--checks", "all",
        "--max-examples", EXAMPLES,
        "--seed", SEED,
        # One worker: the machine is shared, and the suite's other services need the cores too.
        "--workers", "1",
        "--request-timeout", "15",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
