"""A subprocess run with a bound on its time that never outlives its caller: the fuzz run's two
parts (test_api_fuzz.py) run through it at once."""

import asyncio
from pathlib import Path

KILLED = -1  # the exit code reported for a run stopped at its bound


async def run_bounded(command: list[str], *, cwd: Path, env: dict[str, str], output: Path, seconds: float) -> int:
    """Run `command`, its stdout and stderr written to `output` (a file, not a pipe: what it wrote
    survives a kill); its exit code, or KILLED when it ran past `seconds`. Whatever ends the call (its
    bound, an exception, a cancellation), the process is killed and reaped before the call returns
    or raises."""
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(*command, cwd=cwd, env=env, stdout=sink, stderr=sink)
        try:
            return await asyncio.wait_for(process.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            return KILLED
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
