"""The fuzz run's parts never outlive the test (tests/fuzz/bounded.py): a run past its bound, or
cancelled (its sibling part failed, the test was stopped), is killed, and what it wrote is kept."""

import asyncio
import os
import sys

import pytest

from tests.fuzz.bounded import KILLED, run_bounded

pytestmark = pytest.mark.asyncio

# Prints its pid, then sleeps far longer than any bound below.
SLEEPER = [sys.executable, "-c", "import os, sys, time; print(os.getpid(), flush=True); time.sleep(600)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _pid(output) -> int:
    for _ in range(200):
        text = output.read_text().strip() if output.exists() else ""
        if text:
            return int(text.splitlines()[0])
        await asyncio.sleep(0.05)
    raise AssertionError("the process printed no pid")


async def test_a_run_past_its_bound_is_killed_and_its_output_kept(tmp_path):
    output = tmp_path / "out.txt"
    assert await run_bounded(SLEEPER, cwd=tmp_path, env=dict(os.environ), output=output, seconds=1) == KILLED
    assert not _alive(await _pid(output))


async def test_a_cancelled_run_is_killed(tmp_path):
    output = tmp_path / "out.txt"
    run = asyncio.create_task(run_bounded(SLEEPER, cwd=tmp_path, env=dict(os.environ), output=output, seconds=60))
    pid = await _pid(output)
    assert _alive(pid)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert not _alive(pid)


async def test_a_run_that_ends_gives_its_exit_code_and_output(tmp_path):
    output = tmp_path / "out.txt"
    command = [sys.executable, "-c", "import sys; print('done'); sys.exit(3)"]
    assert await run_bounded(command, cwd=tmp_path, env=dict(os.environ), output=output, seconds=60) == 3
    assert output.read_text() == "done\n"
