"""A bounded schemathesis run over the gateway's merged OpenAPI document, with every check.

Every operation the gateway documents is fuzzed, so a route added later is covered without a
new test. Bounded (examples per operation, fixed seed) so it is part of every suite run; set
LIMELIGHT_FUZZ_EXAMPLES and LIMELIGHT_FUZZ_SEED for a deeper or different run on purpose
(LIMELIGHT_FUZZ_WORKERS for more workers: see the comment below).
Which checks run and why: docs/decisions/0009-api-contract-is-tested-by-fuzzing.md.

Calls carry the API key of a tenant of its own (every scope), so the fuzzer reaches the services
behind the door and whatever it revokes or rotates is nobody else's key; its `ignored_auth` check also sends each protected operation without it and expects
a refusal.
"""

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from runtime.admin import new_tenant
from runtime.config import ROOT
from tests.conftest import metric

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

EXAMPLES = os.environ.get("LIMELIGHT_FUZZ_EXAMPLES", "15")
SEED = os.environ.get("LIMELIGHT_FUZZ_SEED", "20261126")


PROXIED = {"route": "/v1/{upstream}/{path:path}", "method": "GET", "status": "200"}


# The document's operations, in two parts fuzzed at once by two `st` processes of one worker each:
# attribution's (69 of 154 in November 2026) and everything else. With one process the fuzzer
# waits on each answer while the services use ~60 % of the two cores; two processes keep them
# busy. Processes, not `--workers 2`: Hypothesis is not thread-safe, and its worker threads failed
# a full-suite run twice (ADR 0009's amendments). The stateful phase follows the links between
# operations inside each part: an attribution operation links only to attribution's.
PARTS = {
    "attribution": ("--include-path-regex", "^/v1/attribution/"),
    "the rest": ("--exclude-path-regex", "^/v1/attribution/"),
}


async def _fuzz(platform, part: str, selection: tuple[str, str]) -> tuple[str, int, str]:
    # A tenant per part: whatever one part's calls revoke or rotate is not the other's key.
    tenant = await new_tenant(platform.service_env("gateway")["DATABASE_URL"], f"fuzzer ({part})")
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "--no-color",
        "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
        "run", f"{platform.s.url('gateway')}/openapi.json",
        *selection,
        "--checks", "all",
        "--max-examples", EXAMPLES,
        "--seed", SEED,
        "--workers", os.environ.get("LIMELIGHT_FUZZ_WORKERS", "1"),
        "--request-timeout", "15",
        # The hooks drop cases that break a rule across fields (tests/fuzz/hooks.py); for a model
        # with several (a holdout test's groups, code shapes per unit and periods) Hypothesis may
        # call that filtering too much and stop the operation. Dropped cases are not failures.
        "--suppress-health-check", "filter_too_much",
    ]
    # The key goes through the environment (schemathesis.toml reads it), not the command line,
    # where any process listing would show it.
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "PYTHONPATH": str(ROOT),
        "LIMELIGHT_FUZZ_API_KEY": tenant.key,
    }
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=840)
    except asyncio.TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        return part, -1, output.decode(errors="replace") + "\n(killed after 840 s)"
    return part, process.returncode, output.decode(errors="replace")


def _operations(output: str) -> tuple[int, int, int]:
    """(selected, documented, tested) from a run's summary: "Selected: 69/154", "Tested: 69"."""
    selected = re.search(r"^\s*Selected: (\d+)/(\d+)\s*$", output, re.M)
    tested = re.search(r"^\s*Tested: (\d+)\s*$", output, re.M)
    assert selected and tested, output[-3000:]
    return int(selected[1]), int(selected[2]), int(tested[1])


# Each part walks its operations through four phases on one worker: minutes on a shared two-core
# machine, more than the suite's default per-test limit.
@pytest.mark.timeout(900)
async def test_every_documented_operation_survives_the_fuzzer(platform):
    reached_before = await metric(platform, "gateway", "http_requests_total", **PROXIED)
    results = await asyncio.gather(*(_fuzz(platform, part, selection) for part, selection in PARTS.items()))
    failed = [f"== {part}: exit {code}\n{output[-20000:]}" for part, code, output in results if code != 0]
    assert not failed, "\n".join(failed)
    # Together the parts selected every documented operation, each once, and tested some of each
    # (a selection that matched none would pass without a call).
    counts = {part: _operations(output) for part, _, output in results}
    assert all(tested > 0 for _, _, tested in counts.values()), counts
    assert len({total for _, total, _ in counts.values()}) == 1, counts
    assert sum(selected for selected, _, _ in counts.values()) == next(iter(counts.values()))[1], counts
    # The credentials worked: the fuzzer's calls reached the services, not only the door's 401.
    assert await metric(platform, "gateway", "http_requests_total", **PROXIED) > reached_before
