"""`limelight`: bring the platform up, take it down, inspect it, run the tests."""

import datetime
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
def up(
    detach: bool = typer.Option(False, "--detach", "-d", help="Leave the platform running and return."),
    demo: bool = typer.Option(False, "--demo", help="Seed the demo world (`limelight seed`, 1,000 creators) once the "
                              "platform is up, unless this state folder already holds it."),
) -> None:
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
    if demo:
        _seed_demo(settings)
    else:
        say("\nEvery call needs an API key. Make a workspace and its first key with:")
        say('  ./limelight admin create-tenant "My brand"')
        say("or fill the platform with a demo world: ./limelight seed")
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


DEMO_CREATORS = 1000
DEMO_SEED = 1


@app.command()
def seed(
    creators: int = typer.Option(1000, "--creators", min=20, help="Creators in the world (1,000 loads in about a minute)."),
    seed_number: int = typer.Option(1, "--seed", help="The same seed (and --anchor) makes the same world."),
    anchor: str = typer.Option(None, "--anchor", help="The world's day (YYYY-MM-DD, UTC): its history ends there. "
                               "Default: today."),
    truth: Path = typer.Option(None, "--truth", help="Where to write the ground truth (JSON). Default: "
                               ".limelight/<state>/seed/truth-<seed>.json."),
    audits: bool = typer.Option(True, "--audits/--no-audits", help="Ask for an audit of every creator at the end."),
    check: bool = typer.Option(False, "--check", help="Then wait for the audits and print what was caught of the "
                               "planted fraud (recall, false positives) and whether the money is exact."),
) -> None:
    """Build a demo world through the public API: workspaces and keys, creators with posts,
    follower histories, audiences, follower samples and comments, planted fraud, campaigns, codes,
    links, clicks and signed Shopify orders, refunds and cancellations (docs/guide/demo-world.md)."""
    settings = RuntimeSettings()
    try:
        day = datetime.date.fromisoformat(anchor) if anchor else None
    except ValueError as exc:
        raise typer.BadParameter("--anchor must be a date, YYYY-MM-DD") from exc
    written, keys = _seed(settings, creators, seed_number, day, truth, audits)
    if check:
        if not audits:
            raise typer.BadParameter("--check needs the audits (drop --no-audits)")
        raise typer.Exit(_check(settings, written, keys))


def _check(settings: RuntimeSettings, truth: Path, keys: Path) -> int:
    import asyncio
    import json

    from runtime.seed import check

    say("Waiting for the audits, then reading everything back through the gateway…")
    judgement = asyncio.run(check.judge(settings.url("gateway"), json.loads(truth.read_text()), json.loads(keys.read_text())))
    _console().print(check.table(judgement))
    checked = ", ".join(f"{n} {what}" for what, n in judgement.checked.items())
    if judgement.audits_unfinished:
        say(f"{judgement.audits_unfinished} audits had not finished in time")
    if judgement.money_mismatches:
        say(f"Money: {len(judgement.money_mismatches)} figures differ from the ground truth ({checked} checked):")
        for line in judgement.money_mismatches[:20]:
            say(f"  {line}")
        return 1
    say(f"Money: exact to the minor unit ({checked} checked against the ground truth).")
    return 0


def _seed(settings: RuntimeSettings, creators: int, seed_number: int, day, truth: Path | None,
          audits: bool) -> tuple[Path, Path]:
    import asyncio

    from runtime.seed import api as seed_api, load as seed_load, plan as seed_plan, results as seed_results

    console = _console()
    if not services.healthy(settings, "gateway"):
        say("error: the platform is not up: start it with `./limelight up` (or use `./limelight up --demo`)")
        raise typer.Exit(1)
    anchor = datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc) if day else None
    world = seed_plan.build(seed_number, creators, anchor)
    key = os.environ.get("LIMELIGHT_OPERATOR_KEY")
    if not key:
        key = asyncio.run(admin.new_tenant(admin.gateway_database_url(settings), "Limelight operator (seed)", operator=True)).key
    started = time.monotonic()
    try:
        loaded = asyncio.run(seed_load.load(world, settings.url("gateway"), key, console=console, audits=audits))
    except seed_api.SeedError as exc:
        say(f"error: the seed stopped: {exc}")
        raise typer.Exit(1) from exc
    folder = settings.state_dir / "seed"
    # Seeding again makes new workspaces: the earlier world's truth and keys stay beside it.
    suffix = next(f"-{n}" if n > 1 else "" for n in range(1, 10_000)
                  if not (folder / f"keys-{seed_number}{f'-{n}' if n > 1 else ''}.json").exists())
    truth = truth or folder / f"truth-{seed_number}{suffix}.json"
    seed_results.write_truth(world, loaded, truth)
    keys = folder / f"keys-{seed_number}{suffix}.json"
    seed_results.write_keys(loaded, keys)
    console.print(seed_results.summary(world, loaded))
    say(f"Seeded in {time.monotonic() - started:.1f}s. Ground truth: {truth}")
    say(f"The brands' API keys (every scope; also in {keys}, readable by you only):")
    for brand in loaded.brand_keys:
        say(f"  {brand['name']:<22} {brand['key']}")
    say("Audits run in the background; try:" if audits else "Try:")
    say(f"  curl -s {settings.url('gateway')}/v1/discovery/search -H \"Authorization: Bearer $LL_KEY\" "
        "-H 'content-type: application/json' -d '{\"q\": \"vegan baking\", \"facets\": true}'")
    say(f"  curl -s '{settings.url('gateway')}/v1/attribution/campaigns' -H \"Authorization: Bearer $LL_KEY\"")
    return truth, keys


def _console():
    from rich.console import Console

    console = Console()
    # Piped into a file or CI log, the tables keep their columns readable.
    return console if console.is_terminal else Console(width=150)


def _seed_demo(settings: RuntimeSettings) -> None:
    marker = settings.state_dir / "seed" / f"truth-{DEMO_SEED}.json"
    if marker.exists():
        say(f"\nThe demo world is already here (ground truth {marker}; keys in {marker.parent}/keys-{DEMO_SEED}.json).")
        return
    say(f"\nSeeding the demo world ({DEMO_CREATORS:,} creators, seed {DEMO_SEED})…")
    _seed(settings, DEMO_CREATORS, DEMO_SEED, None, None, True)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run every benchmark (bench/run_all.py): one table of figures, targets and same-run
    baselines, also written as JSON with the machine. `--quick` (default), `--full`, `--only a,b`, `--out FILE`."""
    Platform(RuntimeSettings(), say).install()
    raise typer.Exit(subprocess.call([sys.executable, str(ROOT / "bench" / "run_all.py"), *ctx.args], cwd=ROOT))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []})
def reliability(ctx: typer.Context) -> None:
    """Kill -9 the broker, PostgreSQL and each service under load, deliver every webhook three times
    shuffled, dead-letter and replay poison, fuzz every route, sweep tenants: one table
    (docs/guide/reliability.md). A platform of its own on ports from 31000; `--help` for options."""
    Platform(RuntimeSettings(), say).install()
    raise typer.Exit(subprocess.call([sys.executable, str(ROOT / "tests" / "reliability" / "suite.py"), *ctx.args], cwd=ROOT))


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
