"""`limelight dlq`: read and replay dead-letter topics (ADR 0001, ADR 0005).

A dead letter is the original record plus `dlq.*` headers, so a replay is the record's key,
value and original headers produced back to `dlq.original_topic`. Consumers deduplicate by
event_id, so replaying a record twice, or one that did get applied, changes nothing.
"""

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from runtime.config import RuntimeSettings

DLQ_MARK = ".dlq."
HEADER_PREFIX = "dlq."
_PREVIEW = 160

app = typer.Typer(help="Inspect and replay dead-letter topics (<topic>.dlq.<consumer>).", no_args_is_help=True)


@dataclass(frozen=True)
class Replayed:
    offset: int  # on the dead-letter topic
    target: str | None  # None: skipped
    partition: int | None = None
    target_offset: int | None = None
    reason: str = ""


async def _dead_letter_topic_names(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if DLQ_MARK in t)
    finally:
        await admin.close()


async def dead_letter_topics(bootstrap: str) -> dict[str, int]:
    """Every dead-letter topic and how many records it holds now."""
    names = await _dead_letter_topic_names(bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        # Dead-letter topics have one partition (ADR 0001).
        partitions = [TopicPartition(name, 0) for name in names]
        first = await reader.beginning_offsets(partitions)
        end = await reader.end_offsets(partitions)
        return {tp.topic: end[tp] - first[tp] for tp in partitions}
    finally:
        await reader.stop()


async def parked(bootstrap: str, topic: str, wanted: Callable[[int], bool] = lambda offset: True) -> list[ConsumerRecord]:
    """The records of a dead-letter topic (one partition, ADR 0001), oldest first."""
    if topic not in await _dead_letter_topic_names(bootstrap):
        raise LookupError(f"{topic}: no such dead-letter topic (see `limelight dlq list`)")
    return [r for r in await read_partition(bootstrap, topic) if wanted(r.offset)]


async def read_partition(bootstrap: str, topic: str, partition: int = 0) -> list[ConsumerRecord]:
    """Every record now on one partition of `topic`, oldest first."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await reader.start()
    try:
        tp = TopicPartition(topic, partition)
        reader.assign([tp])
        # An explicit seek: seek_to_beginning() races the reset that assign() already started.
        first = (await reader.beginning_offsets([tp]))[tp]
        end = (await reader.end_offsets([tp]))[tp]
        reader.seek(tp, first)
        found: list[ConsumerRecord] = []
        while await reader.position(tp) < end:
            batch = await reader.getmany(tp, timeout_ms=1000)
            found += batch.get(tp, [])
        return found
    finally:
        await reader.stop()


def _header(record: ConsumerRecord, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None


async def replay(bootstrap: str, topic: str, wanted: Callable[[int], bool] = lambda offset: True,
                 value: bytes | None = None) -> list[Replayed]:
    """Produce each selected record back to its original topic; what happened to each.

    `value`: a corrected value (the parked one fixed by an operator) sent instead of the parked
    value, with the record's own key and original headers; exactly one record may be selected."""
    records = await parked(bootstrap, topic, wanted)
    if value is not None and len(records) != 1:
        raise LookupError(f"a corrected value replaces one record; {len(records)} are selected (name one with --offset)")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        done = []
        for record in records:
            target = _header(record, "dlq.original_topic")
            if target is None:
                done.append(Replayed(record.offset, None, reason="no dlq.original_topic header"))
                continue
            if value is None and _header(record, "dlq.value_omitted") is not None:
                # Producing the empty value would send a tombstone, not the event.
                done.append(Replayed(record.offset, None, reason="value omitted; replay it from the original offset"))
                continue
            headers = [(k, v) for k, v in record.headers or () if not k.startswith(HEADER_PREFIX)]
            sent = await producer.send_and_wait(target, value=record.value if value is None else value, key=record.key,
                                                headers=headers)
            done.append(Replayed(record.offset, target, sent.partition, sent.offset))
        return done
    finally:
        await producer.stop()


def _selected(offsets: list[int], first: int | None, last: int | None) -> Callable[[int], bool]:
    """Listed offsets, plus the range when --from or --to is given; everything when none is."""
    listed = set(offsets)
    ranged = first is not None or last is not None
    if not listed and not ranged:
        return lambda offset: True
    low, high = first if first is not None else 0, last if last is not None else float("inf")
    return lambda offset: offset in listed or (ranged and low <= offset <= high)


def _bootstrap() -> str:
    return RuntimeSettings().kafka_bootstrap


def _run(coroutine):
    try:
        return asyncio.run(coroutine)
    except LookupError as exc:
        typer.echo(str(exc.args[0]), err=True)
        raise typer.Exit(2) from None


@app.command("list")
def list_topics() -> None:
    """Every dead-letter topic and how many records it holds."""
    counts = _run(dead_letter_topics(_bootstrap()))
    if not counts:
        typer.echo("no dead-letter topics")
    for name, count in counts.items():
        typer.echo(f"{name:<60} {count}")


@app.command()
def show(
    topic: str = typer.Argument(..., help="A dead-letter topic, e.g. discovery.creator.v2.dlq.audit"),
    offset: int | None = typer.Option(None, "--offset", "-o", help="Only this record."),
    raw: bool = typer.Option(False, "--raw", help="Print only the record's whole value, as parked (with --offset): "
                             "save it, fix it, and replay it with `replay --offset N --value-file FILE`."),
) -> None:
    """Each parked record: offset, key, dlq.* headers and the start of its value."""
    if raw and offset is None:
        typer.echo("--raw prints one record's value: name it with --offset", err=True)
        raise typer.Exit(2)
    records = _run(parked(_bootstrap(), topic, (lambda o: o == offset) if offset is not None else (lambda o: True)))
    if raw:
        if not records:
            typer.echo(f"{topic}: no record at offset {offset}", err=True)
            raise typer.Exit(2)
        sys.stdout.buffer.write(records[0].value or b"")
        return
    for record in records:
        key = record.key.decode(errors="replace") if record.key is not None else "-"
        typer.echo(f"offset {record.offset}  key {key}")
        for name, value in record.headers or ():
            if name.startswith(HEADER_PREFIX):
                typer.echo(f"  {name}: {value.decode(errors='replace')}")
        preview = "<none>" if record.value is None else record.value[:_PREVIEW].decode(errors="replace")
        typer.echo(f"  value: {preview}")


@app.command("replay")
def replay_command(
    topic: str = typer.Argument(..., help="A dead-letter topic, e.g. discovery.creator.v2.dlq.audit"),
    offset: list[int] = typer.Option([], "--offset", "-o", help="Replay only this offset (repeatable)."),
    first: int | None = typer.Option(None, "--from", help="Replay offsets from this one (inclusive)."),
    last: int | None = typer.Option(None, "--to", help="Replay offsets up to this one (inclusive)."),
    value_file: Path | None = typer.Option(
        None, "--value-file", exists=True, dir_okay=False,
        help="Send this file's bytes instead of the parked value (one record, named with --offset): the "
        "record fixed by hand, e.g. from `show --offset N --raw`. Key and original headers are kept."),
) -> None:
    """Produce parked records back to their original topic (idempotent producer, acks=all)."""
    if value_file is not None and (len(offset) != 1 or first is not None or last is not None):
        typer.echo("--value-file replaces one record's value: name exactly one --offset", err=True)
        raise typer.Exit(2)
    value = value_file.read_bytes() if value_file is not None else None
    results = _run(replay(_bootstrap(), topic, _selected(offset, first, last), value))
    for r in results:
        if r.target is None:
            typer.echo(f"offset {r.offset}: skipped ({r.reason})")
        else:
            typer.echo(f"offset {r.offset}: replayed to {r.target} partition {r.partition} offset {r.target_offset}")
    replayed = sum(1 for r in results if r.target is not None)
    typer.echo(f"{replayed} replayed, {len(results) - replayed} skipped")
    if len(results) > replayed:
        raise typer.Exit(1)
