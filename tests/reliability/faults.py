"""Crashes on purpose: kill -9 of the broker, the database or one service, and its return.

A killed service comes back as in production, started again by the supervisor (runtime/
supervisor.py); the broker and PostgreSQL are started again by the suite after a while down, as
an operator's process manager would. Every kill takes the whole process tree at once: the
PostgreSQL postmaster with its backends (a crashed host, crash recovery on restart), the Kafka
JVM, a service's uvicorn process.
"""

import signal
import time

import psutil

from runtime import procs, services
from runtime.platform import Platform

INFRASTRUCTURE = ("kafka", "postgresql")
TARGETS = (*services.START_ORDER, *INFRASTRUCTURE)


def kill_tree(process: psutil.Process) -> int:
    """SIGKILL the process and every descendant, parent first (so nothing is started again by
    it); how many processes were killed."""
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    killed = 0
    for member in family:
        try:
            member.send_signal(signal.SIGKILL)
            killed += 1
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)
    return killed


class Faults:
    def __init__(self, platform: Platform):
        self.platform = platform
        self.s = platform.s

    def process_of(self, target: str) -> psutil.Process | None:
        if target == "kafka":
            return self.platform.kafka.running()
        if target == "postgresql":
            info = self.platform.postgres.running_info()
            return psutil.Process(info.pid) if info else None
        return procs.running(target, self.s.run_dir)

    def kill(self, target: str) -> None:
        process = self.process_of(target)
        if process is None:
            raise RuntimeError(f"{target} is not running: nothing to kill")
        kill_tree(process)

    def bring_back(self, target: str) -> None:
        """Start the broker or the database again (a service is the supervisor's to start)."""
        if target == "kafka":
            self.platform.kafka.start()
        elif target == "postgresql":
            self.platform.postgres.start()

    def pid(self, target: str) -> int | None:
        process = self.process_of(target)
        return process.pid if process else None

    def all_ready(self) -> bool:
        return all(services.healthy(self.s, service, probe="readyz") for service in services.START_ORDER)

    def wait_all_ready(self, timeout: float) -> float:
        """Seconds until every service reports ready (its database, broker and consumers)."""
        started = time.monotonic()
        procs.wait_until(self.all_ready, timeout=timeout, interval=0.25, what="every service ready")
        return time.monotonic() - started
