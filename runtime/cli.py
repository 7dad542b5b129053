"""`limelight`: bring the platform up, take it down, inspect it, run the tests."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import logging

import typer

from runtime import admin, dlq, services, supervisor
from runtime.config import ROOT, RuntimeSettings
from runtime.platform import Platform
from services.audit.engine.classifier import report
from services.audit.engine.classifier.dataset import DataError, read_csv
from services.audit.engine.classifier.model import SHIPPED, ModelFileError, load_model, save_model
from services.audit.report.pdf import CANDIDATES as CHROMIUM_NAMES, find_chromium

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
    was_running = platform.anything_running()
    try:
        platform.up()
    except (Exception, KeyboardInterrupt) as exc:
        code = 130 if isinstance(exc, KeyboardInterrupt) else 1
        say("\ninterrupted" if code == 130 else f"\nstart-up failed: {exc}")
        if was_running:
            # Never take down a platform that was serving before this `up` began.
            say("the platform that was already running is left running; `./limelight status` shows it")
        else:
            say("stopping what was started…")
            platform.down()
        raise typer.Exit(code) from (None if code == 130 else exc)
    gateway = settings.url("gateway")
    say(f"\nLimelight is up in {time.monotonic() - started:.1f}s")
    say(f"  gateway        {gateway}")
    say(f"  API reference  {gateway}/docs")
    for service in ("discovery", "audit", "attribution"):
        say(f"  {service:<14} {settings.url(service)}  (direct: needs the gateway's identity token)")
    say(f"  gateway ops    http://127.0.0.1:{settings.operator_port}  (/readyz, /metrics; operators only)")
    say(f"  kafka          {settings.kafka_bootstrap}")
    say(f"  logs           {settings.logs_dir}")
    say("\nEvery call needs an API key. Make a workspace and its first key with:")
    say('  ./limelight admin create-tenant "My brand"')
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
    restarts = {s: 0 for s in services.START_ORDER}
    supervisor_gone = False
    while not stop["now"]:
        state = supervisor.read_state(settings)
        for service in services.START_ORDER:
            count = state.get(service, {}).get("restarts", 0)
            if count > restarts[service]:
                restarts[service] = count
                say(f"! {service} exited and was started again; see {services.log_file(settings, service)}")
        if not supervisor_gone and supervisor.running(settings) is None:
            supervisor_gone = True
            say(f"! the supervisor exited; see {settings.logs_dir / 'supervisor.log'}")
        time.sleep(0.5)


@app.command()
def down() -> None:
    """Stop the services, Kafka and PostgreSQL started by `limelight up`. Data is kept."""
    Platform(RuntimeSettings(), say).down()


@app.command()
def restart(service: str = typer.Argument(help=f"One of: {', '.join(services.START_ORDER)}.")) -> None:
    """Restart one service, leaving the others running; return once it is ready again."""
    if service not in services.START_ORDER:
        raise typer.BadParameter(f"unknown service {service!r}; expected one of {', '.join(services.START_ORDER)}")
    settings = RuntimeSettings()
    started = time.monotonic()
    try:
        Platform(settings, say).restart(service)
    except (RuntimeError, TimeoutError) as exc:
        say(f"restart of {service} failed: {exc}")
        raise typer.Exit(1) from exc
    say(f"{service} restarted and ready in {time.monotonic() - started:.1f}s")


@app.command()
def status() -> None:
    """Each component: up or down, where it listens, its version, and restarts by the supervisor."""
    for row in Platform(RuntimeSettings(), say).status():
        say(f"{row.name:<12} {row.state:<18} {row.where:<45} {row.version:<10} {row.note}".rstrip())


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
    # The audit report's tests drive the system's Chromium (headless, through Playwright): say
    # how to get it rather than let them fail one by one.
    if find_chromium(os.environ.get("AUDIT_REPORT_CHROMIUM")) is None:
        say(f"error: the tests need Chromium and none is on PATH ({', '.join(CHROMIUM_NAMES)}). "
            "Install it: sudo apt-get install chromium (Debian/Ubuntu), or set AUDIT_REPORT_CHROMIUM to its path.")
        raise typer.Exit(2)
    command = [sys.executable, "-m", "pytest", *ctx.args]
    raise typer.Exit(subprocess.call(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}))


audit = typer.Typer(help="Train and evaluate the audit's follower classifier (docs/guide/audit-classifier.md).", no_args_is_help=True)


def _refuse(exc: Exception) -> typer.Exit:
    say(f"error: {exc}")
    return typer.Exit(2)


@audit.command("train")
def audit_train(
    data: Path = typer.Option(..., "--data", help="Labelled follower CSV (columns: docs/guide/audit-classifier.md)."),
    out: Path = typer.Option(SHIPPED, "--out", help="Model file to write (default: the shipped model)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every split; the same data and seed give the same model."),
    folds: int = typer.Option(5, "--folds", min=2, help="Folds of the repeated stratified cross-validation."),
    repeats: int = typer.Option(10, "--repeats", min=2, help="Repeats of the cross-validation."),
) -> None:
    """Fit the follower model on a labelled CSV, cross-validate it, and write the model file with its figures."""
    # Imported here, not at the top: scikit-learn adds ~1.4 s to every `limelight` command otherwise.
    from services.audit.engine.classifier.training import train as train_model

    try:
        dataset = read_csv(data, require_label=True)
        classifier = train_model(dataset, seed=seed, folds=folds, repeats=repeats)
    except DataError as exc:
        raise _refuse(exc) from None
    save_model(classifier, out)
    lines = [*report.data_header(dataset), "", *report.model_header(classifier), ""]
    lines += report.cross_validation(classifier.card.metrics["cross_validation"]) + [""]
    lines += report.holdout(classifier.card.metrics["holdout"]) + ["", f"wrote {out}"]
    say("\n".join(lines))


@audit.command("evaluate")
def audit_evaluate(
    data: Path = typer.Option(..., "--data", help="Labelled follower CSV to judge the model on."),
    model: Path = typer.Option(SHIPPED, "--model", help="Model file (default: the shipped model)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the cross-validation (default: the model's)."),
    folds: int = typer.Option(5, "--folds", min=2, help="Folds of the repeated stratified cross-validation."),
    repeats: int = typer.Option(10, "--repeats", min=2, help="Repeats of the cross-validation."),
) -> None:
    """Print the model's precision, recall, F1, MCC, ROC AUC and confusion matrix on a labelled CSV,
    and the training procedure's cross-validated and hold-out figures on it."""
    # Imported here, not at the top: scikit-learn adds ~1.4 s to every `limelight` command otherwise.
    from services.audit.engine.classifier.training import evaluate as evaluate_model
    from services.audit.engine.classifier.training import procedure_figures

    try:
        classifier = load_model(model)
        dataset = read_csv(data, require_label=True)
        applied = evaluate_model(classifier, dataset)
    except (DataError, ModelFileError) as exc:
        raise _refuse(exc) from None
    lines = [*report.model_header(classifier), *report.data_header(dataset), ""]
    try:
        figures = procedure_figures(dataset, seed=classifier.card.seed if seed is None else seed, folds=folds, repeats=repeats)
    except DataError as exc:
        lines += [f"Cross-validation and hold-out skipped: {exc}", ""]
    else:
        lines.append(f"The training procedure on this data (features: {', '.join(figures['features'])})")
        lines += report.cross_validation(figures["cross_validation"]) + [""]
        lines += report.holdout(figures["holdout"]) + [""]
    needed = [name for name in classifier.model.features if dataset.unknown_share(name) > 0]
    lines.append(f"This model on every row (cut-off {classifier.threshold:.2f}):")
    lines += report.scores(applied.as_dict())
    if needed:
        lines.append("  unknown values replaced by the training median: "
                     + ", ".join(f"{name} ({dataset.unknown_share(name):.0%})" for name in needed))
    if dataset.fingerprint == classifier.card.training_data["sha256"]:
        lines.append("  (in-sample: these are the rows the model was trained on; judge it by the figures above)")
    say("\n".join(lines))


app.add_typer(dlq.app, name="dlq")
app.add_typer(admin.app, name="admin")
app.add_typer(audit, name="audit")


if __name__ == "__main__":
    app()
