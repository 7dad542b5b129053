"""Background processes with pid files that survive the command that started them."""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil


def start(
    name: str, argv: list[str], *, run_dir: Path, log_file: Path, env: dict[str, str], cwd: Path
) -> subprocess.Popen:
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            # Own session: Ctrl-C in the terminal reaches `limelight up`, which then stops the
            # children in order, instead of every child dying at once.
            start_new_session=True,
        )
    record = {"pid": process.pid, "create_time": psutil.Process(process.pid).create_time(), "argv": argv}
    (run_dir / f"{name}.json").write_text(json.dumps(record))
    return process


def running(name: str, run_dir: Path) -> psutil.Process | None:
    """The process recorded under `name`, if it is still that same process."""
    record_file = run_dir / f"{name}.json"
    if not record_file.exists():
        return None
    try:
        record = json.loads(record_file.read_text())
        process = psutil.Process(record["pid"])
        # Guard against pid reuse: same pid and same start time means same process.
        if abs(process.create_time() - record["create_time"]) > 1 or process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except (psutil.NoSuchProcess, ValueError, KeyError, OSError):
        return None


def stop(name: str, run_dir: Path, *, timeout: float = 30.0, sig: int = signal.SIGTERM) -> bool:
    """Signal the process, wait for it to exit, kill it if it will not. True if it was running.

    The pid file goes only once the process is gone, so a failed stop can be retried.
    """
    record = run_dir / f"{name}.json"
    process = running(name, run_dir)
    if process is None:
        record.unlink(missing_ok=True)
        return False
    try:
        process.send_signal(sig)
        process.wait(timeout)
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(10)
    except psutil.NoSuchProcess:
        pass
    record.unlink(missing_ok=True)
    return True


def rotate_if_larger(path: Path, max_bytes: int) -> None:
    """Keep one previous copy of an append-only file once it has grown past `max_bytes`."""
    if path.exists() and path.stat().st_size > max_bytes:
        path.replace(path.with_name(path.name + ".1"))


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def ensure_ports_free(owner: str, ports: dict[str, int], grace: float = 10.0) -> None:
    """Refuse to start when another program listens on our port: we would talk to it instead.

    A process that was just stopped or killed may hold its socket for a moment; wait `grace`
    seconds for the port to be released before deciding it belongs to someone else.
    """
    deadline = time.monotonic() + grace
    for setting, port in ports.items():
        while port_in_use(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{owner}: port {port} is in use by another program; choose another with {setting}")
            time.sleep(0.2)


def wait_until(predicate, *, timeout: float, interval: float = 0.25, what: str, alive=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if alive is not None and not alive():
            raise RuntimeError(f"{what}: the process exited")
        time.sleep(interval)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f}s")


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(extra)
    return env
