"""Keeps the four services running: starts the missing ones, restarts one that exits.

`limelight up` starts it as `python -m runtime.supervisor <state dir>`; it runs in the
background with its own pid file (`run/supervisor.json`) and log (`logs/supervisor.log`).

- A service that exits without being asked to is started again after a capped exponential
  backoff (1 s, 2 s, 4 s … 30 s); once it has stayed up for a minute the backoff starts over.
- A service already running when the supervisor starts is adopted, not restarted, so `up` on
  a running platform, or a supervisor started again after a crash, changes no pid.
- `limelight restart SERVICE` drops a request file in the run dir; the supervisor stops that one
  service and starts it at once, touching no other.
- SIGTERM stops the supervisor only. `limelight down` stops it first, so nothing is resurrected,
  then stops the services itself in order.

What it starts each service with (environment, settings) is the spec file `up` writes
(`run/supervisor-spec.json`, mode 0600: it may hold database passwords).
"""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from runtime import procs, services
from runtime.config import ROOT, RuntimeSettings

NAME = "supervisor"
SPEC_FILE = "supervisor-spec.json"
STATE_FILE = "supervisor-state.json"
FIRST_DELAY = 1.0
MAX_DELAY = 30.0
STABLE_AFTER = 60.0
TICK = 0.25

log = logging.getLogger("limelight.supervisor")


def write_spec(settings: RuntimeSettings, envs: dict[str, dict[str, str]]) -> None:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    spec = {"settings": settings.model_dump(mode="json"), "services": envs}
    path = settings.run_dir / SPEC_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(spec, fh)


def read_spec(state_dir: Path) -> tuple[RuntimeSettings, dict[str, dict[str, str]]]:
    spec = json.loads((state_dir / "run" / SPEC_FILE).read_text())
    return RuntimeSettings(**spec["settings"]), spec["services"]


def request_file(settings: RuntimeSettings, service: str) -> Path:
    return settings.run_dir / f"restart-{service}.request"


def read_state(settings: RuntimeSettings) -> dict[str, dict]:
    """What the supervisor last reported per service ({} when none has run)."""
    try:
        return json.loads((settings.run_dir / STATE_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def running(settings: RuntimeSettings):
    return procs.running(NAME, settings.run_dir)


def start(settings: RuntimeSettings) -> None:
    procs.start(
        NAME,
        [sys.executable, "-m", "runtime.supervisor", str(settings.state_dir)],
        run_dir=settings.run_dir,
        log_file=settings.logs_dir / f"{NAME}.log",
        env=procs.child_env({"PYTHONUNBUFFERED": "1"}),
        cwd=ROOT,
    )


def stop(settings: RuntimeSettings) -> bool:
    # A restart in progress may be waiting for a service's graceful shutdown (30 s).
    return procs.stop(NAME, settings.run_dir, timeout=90)


def next_delay(previous: float | None, uptime: float) -> float:
    """Capped exponential backoff, starting over once the service had stayed up a while."""
    if previous is None or uptime >= STABLE_AFTER:
        return FIRST_DELAY
    return min(previous * 2, MAX_DELAY)


@dataclass
class Child:
    name: str
    process: subprocess.Popen | None = None  # None when adopted from an earlier supervisor
    started_at: float = field(default_factory=time.monotonic)
    delay: float | None = None
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.settings, _ = read_spec(state_dir)
        self.children = {name: Child(name) for name in services.START_ORDER}
        self.stopping = False
        self._reported: dict | None = None

    def _start(self, child: Child) -> None:
        # Read on every start: a later `up` may have written a newer spec.
        settings, envs = read_spec(self.state_dir)
        child.process = services.start(settings, child.name, envs[child.name])
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("started %s (pid %s)", child.name, child.process.pid)

    def _alive(self, child: Child) -> bool:
        if child.process is not None and child.process.poll() is not None:
            return False  # reaped; procs.running would also see it gone
        return procs.running(child.name, self.settings.run_dir) is not None

    def _check(self, child: Child) -> None:
        now = time.monotonic()
        if child.restart_at is None:
            if self._alive(child):
                return
            code = child.process.returncode if child.process is not None else "unknown"
            child.delay = next_delay(child.delay, now - child.started_at)
            child.restart_at = now + child.delay
            log.warning("%s exited (code %s); starting it again in %.0fs", child.name, code, child.delay)
        elif now >= child.restart_at:
            child.restarts += 1
            self._start(child)

    def _serve_restart_request(self, child: Child) -> None:
        request = request_file(self.settings, child.name)
        if not request.exists():
            return
        log.info("restart of %s requested", child.name)
        services.stop(self.settings, child.name)
        if child.process is not None:
            child.process.poll()
        child.delay = None
        self._start(child)
        request.unlink(missing_ok=True)

    def _write_state(self) -> None:
        state = {
            c.name: {"restarts": c.restarts, "state": "restarting" if c.restart_at is not None else "running"}
            for c in self.children.values()
        }
        if state == self._reported:
            return
        self._reported = state
        path = self.settings.run_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(path)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for child in self.children.values():
            if procs.running(child.name, self.settings.run_dir) is not None:
                log.info("adopted running %s", child.name)
            else:
                self._start(child)
        while not self.stopping:
            for child in self.children.values():
                self._serve_restart_request(child)
                self._check(child)
            self._write_state()
            time.sleep(TICK)
        log.info("supervisor stopping; services keep running")

    def _stop(self, signum, frame) -> None:
        self.stopping = True


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout)
    Supervisor(Path(sys.argv[1])).run()


if __name__ == "__main__":
    main()
