"""Where `limelight` keeps its state and how it names the database, whatever the operator chose."""

import asyncio
import os
import shutil
from pathlib import Path

import asyncpg
import pytest

from runtime.config import ROOT, RuntimeSettings
from runtime.kafka import Kafka
from runtime.postgres import Postgres

pytestmark = pytest.mark.integration

BASE = int(os.environ.get("LIMELIGHT_TEST_PORT_BASE", "18000")) + 100


def test_kafka_starts_in_a_relative_state_dir_anchored_at_the_repository(tmp_path, monkeypatch):
    relative = Path(".limelight") / "test-relative-state"
    shutil.rmtree(ROOT / relative, ignore_errors=True)
    # Started from elsewhere, a relative folder still means the same place under the repository.
    monkeypatch.chdir(tmp_path)
    kafka = Kafka(
        RuntimeSettings(state_dir=relative, kafka_port=BASE + 20, kafka_controller_port=BASE + 21, kafka_heap="256m")
    )
    try:
        kafka.start()
        assert kafka.answers_metadata()
        assert (ROOT / relative / "kafka" / "server.properties").exists()
        assert not (tmp_path / relative).exists()
    finally:
        kafka.stop()
        shutil.rmtree(ROOT / relative, ignore_errors=True)


def test_bootstrap_creates_a_database_whose_name_needs_quoting(platform):
    if platform.s.database_url:
        pytest.skip("with DATABASE_URL the database is the one that URL names; nothing is created")
    name = 'limelight "odd"; name'
    postgres = Postgres(platform.s.model_copy(update={"database_name": name}))
    server = postgres.start()

    async def exists() -> bool:
        conn = await asyncpg.connect(server.admin_dsn)
        try:
            return bool(await conn.fetchval("select 1 from pg_database where datname = $1", name))
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(server.admin_dsn)
        try:
            statement = await conn.fetchval("select format('drop database if exists %I with (force)', $1::text)", name)
            await conn.execute(statement)
        finally:
            await conn.close()

    try:
        postgres.bootstrap(server)
        assert asyncio.run(exists())
    finally:
        asyncio.run(drop())


def test_postgres_starts_again_in_the_same_process_after_a_kill_9(tmp_path):
    """pgserver hands back its handle of a data folder without looking whether that server still
    runs; after a crash `Postgres.start()` must start it again (the reliability suite kills it)."""
    import psutil

    from tests.reliability.faults import kill_tree

    postgres = Postgres(RuntimeSettings(state_dir=tmp_path / "state"))
    try:
        first = postgres.start()
        info = postgres.running_info()
        assert info is not None
        assert kill_tree(psutil.Process(info.pid)) >= 1
        assert postgres.running_info() is None

        again = postgres.start()
        assert postgres.running_info() is not None
        assert postgres.running_info().pid != info.pid

        async def answers() -> int:
            connection = await asyncpg.connect(again.admin_dsn)
            try:
                return await connection.fetchval("select 1")
            finally:
                await connection.close()

        assert asyncio.run(answers()) == 1
        assert again.host == first.host  # the same socket folder: services' URLs still hold
    finally:
        postgres.stop()
