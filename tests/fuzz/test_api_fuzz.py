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

import asyncpg
import pytest

from runtime.admin import new_tenant
from runtime.config import ROOT
from tests.conftest import eventually, metric
from tests.fuzz.bounded import KILLED, run_bounded

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

EXAMPLES = os.environ.get("LIMELIGHT_FUZZ_EXAMPLES", "15")
SEED = os.environ.get("LIMELIGHT_FUZZ_SEED", "20261126")


PROXIED = {"route": "/v1/{upstream}/{path:path}", "method": "GET", "status": "200"}


# The document's operations, in two parts fuzzed at once by two `st` processes of one worker each:
# attribution's (69 of 154 in November 2026) with the click redirect `/r/{slug}`, whose slugs come
# from attribution's links, and everything else. With one process the fuzzer waits on each answer
# while the services use ~60 % of the two cores; two processes keep them busy. Processes, not
# `--workers 2`: Hypothesis is not thread-safe, and its worker threads failed a full-suite run
# twice (ADR 0009's amendments). The stateful phase follows the links between operations inside
# each part.
_FIRST_PART = "^/(v1/attribution/|r/)"
PARTS = {
    "attribution": ("--include-path-regex", _FIRST_PART),
    "the rest": ("--exclude-path-regex", _FIRST_PART),
}
PART_SECONDS = 840  # each; the parts run at once, inside the test's 900 s


async def _fuzz(platform, tenant, selection: tuple[str, str], output: Path) -> int:
    """One part's `st run`, its output in `output`; its exit code (KILLED at PART_SECONDS). The
    process never outlives the call, whatever ends it (tests/fuzz/bounded.py)."""
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
    return await run_bounded(command, cwd=ROOT, env=env, output=output, seconds=PART_SECONDS)


def _operations(output: str) -> tuple[int, int, int]:
    """(selected, documented, tested) from a run's summary: "Selected: 69/154", "Tested: 69" (the
    last such lines: the summary ends the output)."""
    selected = re.findall(r"^\s*Selected: (\d+)/(\d+)\s*$", output, re.M)
    tested = re.findall(r"^\s*Tested: (\d+)\s*$", output, re.M)
    assert selected and tested, output[-3000:]
    return int(selected[-1][0]), int(selected[-1][1]), int(tested[-1])


# Each part walks its operations through four phases on one worker: minutes on a shared two-core
# machine, more than the suite's default per-test limit.
@pytest.mark.timeout(900)
async def test_every_documented_operation_survives_the_fuzzer(platform, service_dsn, tmp_path):
    reached_before = await metric(platform, "gateway", "http_requests_total", **PROXIED)
    # A tenant per part: whatever one part's calls revoke or rotate is not the other's key.
    tenants = {part: await new_tenant(platform.service_env("gateway")["DATABASE_URL"], f"fuzzer ({part})")
               for part in PARTS}
    outputs = {part: tmp_path / f"fuzz-{i}.txt" for i, part in enumerate(PARTS)}
    async with asyncio.TaskGroup() as group:  # one part failing to start cancels (and kills) the other
        runs = {part: group.create_task(_fuzz(platform, tenants[part], selection, outputs[part]))
                for part, selection in PARTS.items()}
    texts = {part: outputs[part].read_text(errors="replace") for part in PARTS}
    failed = [f"== {part}: exit {run.result()}{' (killed)' if run.result() == KILLED else ''}\n{texts[part][-20000:]}"
              for part, run in runs.items() if run.result() != 0]
    assert not failed, "\n".join(failed)
    # Together the parts selected every documented operation, each once, and tested some of each
    # (a selection that matched none would pass without a call).
    counts = {part: _operations(text) for part, text in texts.items()}
    assert all(tested > 0 for _, _, tested in counts.values()), counts
    assert len({total for _, total, _ in counts.values()}) == 1, counts
    assert sum(selected for selected, _, _ in counts.values()) == next(iter(counts.values()))[1], counts
    # The credentials worked: each part's key was taken by the door (its last use is written about
    # once a second), and the calls reached the services, not only the door's 401.
    connection = await asyncpg.connect(service_dsn("gateway"))
    try:
        async def used() -> bool:
            return await connection.fetchval(
                "SELECT count(*) = $2 FROM gateway.api_keys WHERE id = ANY($1::uuid[]) AND last_used_at IS NOT NULL",
                [tenant.key_id for tenant in tenants.values()], len(tenants))
        await eventually(used, timeout=10)
    finally:
        await connection.close()
    assert await metric(platform, "gateway", "http_requests_total", **PROXIED) > reached_before
