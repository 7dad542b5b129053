"""Deleting what has expired (published outbox rows, processed-event records, idempotency
keys): in short transactions of a bounded number of rows, by one replica at a time.

One DELETE of everything expired would hold its locks and bloat one transaction for as long as
it takes, and every replica would run the same DELETE at the same moment. Each batch instead
takes a transaction-level advisory lock named for the table; a replica that cannot have it
leaves the work to the one that has it.
"""

import hashlib

from sqlalchemy import ColumnElement, Table, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def lock_key(name: str) -> int:
    """A stable 64-bit advisory-lock key for `name`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def delete_expired(
    sessionmaker: async_sessionmaker[AsyncSession],
    table: Table,
    *expired: ColumnElement[bool],
    lock: str,
    batch: int = 5_000,
    max_batches: int = 20,
) -> int:
    """Delete the rows of `table` matching `expired`, at most `batch` per transaction and
    `max_batches` per call (the next call goes on); returns how many this call deleted."""
    key = tuple_(*table.primary_key.columns)
    deleted = 0
    for _ in range(max_batches):
        async with sessionmaker() as session, session.begin():
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(lock_key(lock)))):
                return deleted  # another replica is doing it
            doomed = select(*table.primary_key.columns).where(*expired).limit(batch)
            count = (await session.execute(delete(table).where(key.in_(doomed)))).rowcount
        deleted += count
        if count < batch:
            break
    return deleted
