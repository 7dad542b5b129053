"""Each topic's contract is snapshotted; a breaking change fails here and needs a v<N+1> topic.

To record an additive change (a new optional field, a new event type), run
`UPDATE_CONTRACT_SNAPSHOTS=1 ./limelight test tests/contracts` and commit the snapshot.
"""

import json
import os
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

from shared.contracts.asyncapi import asyncapi_document
from shared.contracts.catalog import CATALOG
from shared.contracts.compatibility import breaking_changes, contract_schemas
from shared.contracts.envelope import Envelope

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_CONTRACT_SNAPSHOTS") == "1"


@pytest.mark.parametrize("topic", CATALOG, ids=lambda t: t.name)
def test_contract_has_no_breaking_change_against_its_snapshot(topic):
    path = SNAPSHOTS / f"{topic.name}.json"
    current = contract_schemas(topic)
    if not path.exists():
        if UPDATE:
            path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
            return
        pytest.fail(f"no snapshot for {topic.name}; record it with UPDATE_CONTRACT_SNAPSHOTS=1")
    recorded = json.loads(path.read_text())
    problems = [f"{event}: event type removed" for event in recorded if event not in current]
    for event, schema in recorded.items():
        if event in current:
            problems += [f"{event} {p}" for p in breaking_changes(schema, current[event])]
    assert not problems, f"breaking change to {topic.name}; publish a new major topic instead:\n" + "\n".join(problems)
    if current != recorded:
        if UPDATE:
            path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
        else:
            pytest.fail(f"{topic.name} changed compatibly; record it with UPDATE_CONTRACT_SNAPSHOTS=1")


class _V1(BaseModel):
    creator_id: str
    handle: str
    tier: Literal["nano", "micro"] = "nano"


class _AddsOptional(_V1):
    country: str | None = None


class _AddsRequired(_V1):
    country: str


class _RenamesField(BaseModel):
    creator_id: str
    username: str
    tier: Literal["nano", "micro"] = "nano"


class _ChangesType(BaseModel):
    creator_id: int
    handle: str
    tier: Literal["nano", "micro"] = "nano"


class _NarrowsEnum(BaseModel):
    creator_id: str
    handle: str
    tier: Literal["nano"] = "nano"


def _schema(model) -> dict:
    return Envelope[model].model_json_schema()


def test_adding_an_optional_field_is_compatible():
    assert breaking_changes(_schema(_V1), _schema(_AddsOptional)) == []


def test_adding_a_required_field_is_breaking():
    assert breaking_changes(_schema(_V1), _schema(_AddsRequired)) == ["$.payload.country: new required field"]


def test_renaming_a_field_is_breaking():
    problems = breaking_changes(_schema(_V1), _schema(_RenamesField))
    assert "$.payload.handle: field removed" in problems


def test_changing_a_field_type_is_breaking():
    problems = breaking_changes(_schema(_V1), _schema(_ChangesType))
    assert any(p.startswith("$.payload.creator_id") for p in problems)


def test_changing_an_enum_is_breaking():
    problems = breaking_changes(_schema(_V1), _schema(_NarrowsEnum))
    assert any(p.startswith("$.payload.tier") for p in problems)


def test_asyncapi_document_lists_every_topic_and_event():
    document = asyncapi_document("test")
    assert set(document["channels"]) == {t.name for t in CATALOG}
    for topic in CATALOG:
        assert set(document["channels"][topic.name]["messages"]) == set(topic.events)
        for consumer in topic.consumers:
            assert f"{consumer}.consume.{topic.name}" in document["operations"]
