"""`limelight dlq list|show|replay` against the suite's broker, with the real audit consumer
downstream: a replayed dead letter is applied once, however often it is replayed."""

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from typer.testing import CliRunner

from runtime.cli import app
from tests.conftest import creator_created, ensure_topic, eventually, exactly, processed_count, publish

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TOPIC = "discovery.creator.v2"
DLQ = "discovery.creator.v2.dlq.audit"


async def _limelight(platform, *args: str):
    # The CLI runs its own event loop: keep it off the test's.
    env = {"LIMELIGHT_KAFKA_PORT": str(platform.s.kafka_port)}
    return await asyncio.to_thread(CliRunner().invoke, app, ["dlq", *args], env=env)


async def _park(platform, producer, envelope, original_headers=()) -> int:
    """A dead letter as the audit consumer writes one (ADR 0001): the DLQ offset."""
    await ensure_topic(platform, DLQ)
    headers = [*original_headers, ("dlq.error", b"audit was broken then"), ("dlq.error_type", b"ValueError"),
               ("dlq.consumer", b"audit"), ("dlq.consumer_group", b"audit.creator-audits"),
               ("dlq.original_topic", TOPIC.encode()), ("dlq.original_partition", b"0"),
               ("dlq.original_offset", b"0"), ("dlq.attempts", b"1"), ("dlq.failed_at", b"2026-11-26T12:00:00+00:00")]
    sent = await producer.send_and_wait(
        DLQ, envelope.model_dump_json().encode(), key=envelope.aggregate_id.encode(), headers=headers
    )
    return sent.offset


async def _audits_for(audit_db, creator_id) -> int:
    return await audit_db.fetchval("select count(*) from audit.audits where creator_id = $1", creator_id)


async def _replayed(platform, output: str):
    """The record `replay` says it produced, read back from the original topic."""
    partition, target_offset = (int(w) for w in output.split(f"replayed to {TOPIC} partition ")[1].split()[::2][:2])
    reader = AIOKafkaConsumer(bootstrap_servers=platform.s.kafka_bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        tp = TopicPartition(TOPIC, partition)
        reader.assign([tp])
        reader.seek(tp, target_offset)
        record = (await reader.getmany(tp, timeout_ms=5000, max_records=1))[tp][0]
    finally:
        await reader.stop()
    return record


async def test_replaying_a_dead_letter_twice_applies_it_once(platform, producer, audit_db):
    event = creator_created()
    offset = await _park(platform, producer, event)

    first = await _limelight(platform, "replay", DLQ, "--offset", str(offset))
    assert first.exit_code == 0, first.output
    assert f"offset {offset}: replayed to {TOPIC}" in first.output
    await eventually(lambda: exactly(processed_count(audit_db, [event.event_id]), 1), timeout=60)

    second = await _limelight(platform, "replay", DLQ, "--offset", str(offset))
    assert second.exit_code == 0, second.output
    # A later event on the same key is applied after the second copy: by then the copy was seen.
    marker = creator_created(event.payload.creator_id)
    await publish(producer, TOPIC, marker)
    await eventually(lambda: exactly(processed_count(audit_db, [marker.event_id]), 1), timeout=60)
    # One audit: the copy added nothing, and the marker found it pending (one active per creator).
    assert await _audits_for(audit_db, event.payload.creator_id) == 1


async def test_replay_sends_key_value_and_original_headers_without_dlq_headers(platform, producer):
    event = creator_created()
    offset = await _park(platform, producer, event, original_headers=[("traceparent", b"00-abc-def-01")])
    result = await _limelight(platform, "replay", DLQ, "--from", str(offset), "--to", str(offset))
    assert result.exit_code == 0, result.output
    record = await _replayed(platform, result.output)
    assert record.key == event.aggregate_id.encode()
    assert json.loads(record.value) == json.loads(event.model_dump_json())
    assert list(record.headers) == [("traceparent", b"00-abc-def-01")]


async def test_list_counts_and_show_describes_parked_records(platform, producer):
    key = uuid.uuid4()
    offset = await _park(platform, producer, creator_created(key))
    listed = await _limelight(platform, "list")
    assert listed.exit_code == 0, listed.output
    assert any(line.split() == [DLQ, str(offset + 1)] for line in listed.output.splitlines()), listed.output

    shown = await _limelight(platform, "show", DLQ)
    assert shown.exit_code == 0, shown.output
    assert f"offset {offset}  key {key}" in shown.output
    assert "dlq.error: audit was broken then" in shown.output
    assert "dlq.consumer_group: audit.creator-audits" in shown.output


async def test_replay_of_a_topic_that_is_not_a_dead_letter_topic_is_refused(platform):
    result = await _limelight(platform, "replay", TOPIC)
    assert result.exit_code == 2
    assert f"{TOPIC}: no such dead-letter topic" in result.output


async def test_a_record_fixed_by_hand_is_replayed_with_its_key_and_headers(platform, producer, tmp_path):
    """`show --offset N --raw` gives the parked value as it is; the operator fixes it and
    `replay --offset N --value-file F` sends the fixed bytes under the record's own key."""
    event = creator_created()
    offset = await _park(platform, producer, event, original_headers=[("traceparent", b"00-abc-def-01")])
    raw = await _limelight(platform, "show", DLQ, "--offset", str(offset), "--raw")
    assert raw.exit_code == 0, raw.output
    assert json.loads(raw.output) == json.loads(event.model_dump_json())

    fixed = json.loads(raw.output)
    fixed["payload"]["bio"] = "fixed by the operator"
    path = tmp_path / "fixed.json"
    path.write_text(json.dumps(fixed))
    result = await _limelight(platform, "replay", DLQ, "--offset", str(offset), "--value-file", str(path))
    assert result.exit_code == 0, result.output
    record = await _replayed(platform, result.output)
    assert record.key == event.aggregate_id.encode()
    assert json.loads(record.value) == fixed
    assert list(record.headers) == [("traceparent", b"00-abc-def-01")]


@pytest.mark.parametrize("selection", [[], ["--from", "0"], ["--offset", "0", "--offset", "1"]])
async def test_a_fixed_value_must_name_exactly_one_record(platform, tmp_path, selection):
    path = tmp_path / "fixed.json"
    path.write_text("{}")
    result = await _limelight(platform, "replay", DLQ, *selection, "--value-file", str(path))
    assert result.exit_code == 2
    assert "name exactly one --offset" in result.output


async def test_raw_needs_an_offset(platform):
    result = await _limelight(platform, "show", DLQ, "--raw")
    assert result.exit_code == 2
    assert "--raw prints one record's value" in result.output
