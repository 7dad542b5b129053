"""`limelight`: bring the platform up, take it down, inspect it, run the tests."""

import os
import signal
import subprocess
import sys
import time

import logging

import typer

from runtime import procs, services
from runtime.config import ROOT, RuntimeSettings
from runtime.platform import Platform

# Connection-refused noise while waiting for the broker is expected; the steps report outcomes.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

app = typer.Typer(help="Run Limelight on this machine: real Kafka, real PostgreSQL, four services.", no_args_is_help=True, pretty_exceptions_enable=False)


def say(message: str) -> None:
    typer.echo(message)


@app.command()
def install() -> None:
    """Fetch what the platform needs that pip does not install (the Kafka jars)."""
    Platform(RuntimeSettings(), say).install()


@app.command()
def up(detach: bool = typer.Option(False, "--detach", "-d", help="Leave the platform running and return.")) -> None:
    """Start Kafka and PostgreSQL, create topics, migrate, start every service, print the URLs."""
    settings = RuntimeSettings()
    platform = Platform(settings, say)
    started = time.monotonic()
    say(f"Starting Limelight (state in {settings.state_dir})")
    try:
        platform.up()
    except KeyboardInterrupt:
        say("\ninterrupted; stopping what was started…")
        platform.down()
        raise typer.Exit(130) from None
    except Exception as exc:  # show the cause, leave nothing half-running
        say(f"\nstart-up failed: {exc}\nstopping what was started…")
        platform.down()
        raise typer.Exit(1) from exc
    gateway = settings.url("gateway")
    say(f"\nLimelight is up in {time.monotonic() - started:.1f}s")
    say(f"  gateway        {gateway}")
    say(f"  API reference  {gateway}/docs")
    for service in ("discovery", "audit", "attribution"):
        say(f"  {service:<14} {settings.url(service)}  (direct, for operators)")
    say(f"  kafka          {settings.kafka_bootstrap}")
    say(f"  logs           {settings.logs_dir}")
    if detach:
        say("\nRunning in the background; stop it with `./limelight down`.")
        return
    say("\nPress Ctrl-C to stop.")
    _wait_for_signal(settings)
    say("\nstopping…")
    platform.down()


def _wait_for_signal(settings: RuntimeSettings) -> None:
    stop = {"now": False}

    def handler(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    reported: set[str] = set()
    while not stop["now"]:
        for service in services.START_ORDER:
            if service not in reported and procs.running(service, settings.run_dir) is None:
                reported.add(service)
                say(f"! {service} exited; see {settings.logs_dir / (service + '.log')}")
        time.sleep(0.5)


@app.command()
def down() -> None:
    """Stop the services, Kafka and PostgreSQL started by `limelight up`. Data is kept."""
    Platform(RuntimeSettings(), say).down()


@app.command()
def status() -> None:
    """Each component: up or down, where it listens, its version."""
    for row in Platform(RuntimeSettings(), say).status():
        say(f"{row.name:<12} {row.state:<18} {row.where:<45} {row.version}")


@app.command()
def migrate() -> None:
    """Apply every service's migrations (starting Kafka and PostgreSQL if needed)."""
    Platform(RuntimeSettings(), say).start_infrastructure()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def test(ctx: typer.Context) -> None:
    """Run the whole test suite against a real Kafka and PostgreSQL started for it.

    Extra arguments go to pytest, e.g. `./limelight test -k outbox -x`.
    """
    Platform(RuntimeSettings(), say).install()
    command = [sys.executable, "-m", "pytest", *ctx.args]
    raise typer.Exit(subprocess.call(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}))


from runtime import dlq  # noqa: E402  (kept beside its registration: one block to merge)

app.add_typer(dlq.app, name="dlq")


if __name__ == "__main__":
    app()
