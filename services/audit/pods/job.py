"""The pods job: engagement pods recomputed over every creator's comments, debounced.

Comment ingest marks `pods_state` (dirty_since, last_ingest_at); this worker recomputes once no
comments arrived for `pods_quiet_seconds`, or once the first waiting ingest is
`pods_max_wait_seconds` old, whichever is first, so a stream of bulk requests causes a few runs,
not one per request. One replica runs it at a time (an advisory lock); the pods table is
replaced in the run's transaction, so readers see the old pods or the new, never half. If
comments arrived while it ran, the mark stays and it runs again.
"""

import asyncio
import functools
import logging
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.audit.config import AuditSettings
from services.audit.pods.models import Pod, PodsState
from services.audit.projection.models import Creator
from services.audit.samples.models import Comment
from shared.db import utcnow
from shared.messaging.kafka import sleep_or_stop

log = logging.getLogger(__name__)

POD_RUNS = Counter("audit_pod_runs_total", "Runs of the pods job")
_LOCK = text("select pg_try_advisory_xact_lock(hashtext('audit.pods'))")
_WAIT = text("select pg_advisory_xact_lock(hashtext('audit.pods'))")
_POLL_SECONDS = 1.0


async def hold_off(session: AsyncSession) -> None:
    """Wait for a run under way to finish, and keep the job from starting one until `session`'s
    transaction ends: for a change to comments and pods that a run reading the comments before
    it commits would undo (a creator's erasure)."""
    await session.execute(_WAIT)


class PodsJob:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: AuditSettings):
        self.sessionmaker = sessionmaker
        self.quiet = timedelta(seconds=settings.pods_quiet_seconds)
        self.max_wait = timedelta(seconds=settings.pods_max_wait_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_once()
            await sleep_or_stop(stop, _POLL_SECONDS)

    async def run_once(self, *, force: bool = False) -> int | None:
        """Recompute when due (or `force`); the number of pods stored, None when it did not run."""
        from services.audit.engine.pods import find_pods

        async with self.sessionmaker() as session, session.begin():
            state = (await session.execute(select(PodsState).where(PodsState.id == 1))).scalar_one_or_none()
            now = utcnow()
            due = state is not None and state.dirty_since is not None and (
                now - state.last_ingest_at >= self.quiet or now - state.dirty_since >= self.max_wait
            )
            if not (due or force) or not await session.scalar(_LOCK):
                return None
            seen = state.last_ingest_at if state is not None else None
            comments = (
                await session.execute(
                    select(Comment.creator_id, Comment.post_id, Comment.author, Comment.commented_at).where(
                        Comment.commented_at.is_not(None)
                    )
                )
            ).all()
            # Creators' own accounts, so the reciprocal pattern (creators commenting on each
            # other's posts) is seen too (engine.pods, docs/guide/audit-pods.md).
            handles = {
                handle.lower(): creator_id
                for creator_id, handle in (await session.execute(select(Creator.creator_id, Creator.handle))).all()
            }
            pods = await asyncio.to_thread(
                functools.partial(find_pods, creator_handles=handles), [tuple(c) for c in comments]
            )
            await session.execute(delete(Pod))
            if pods:
                await session.execute(
                    insert(Pod),
                    [
                        {"members": list(p.members), "creators": list(p.creators), "co_comments": p.co_comments,
                         "posts": p.posts, "evidence": p.evidence}
                        for p in pods
                    ],
                )
            if seen is not None:
                # Cleared only if no ingest came since the state was read; else it runs again.
                await session.execute(
                    update(PodsState)
                    .where(PodsState.id == 1, PodsState.last_ingest_at == seen)
                    .values(dirty_since=None)
                    .execution_options(synchronize_session=False)
                )
            await session.execute(
                update(PodsState).where(PodsState.id == 1)
                .values(computed_at=func.now(), comments_read=len(comments))
                .execution_options(synchronize_session=False)
            )
        POD_RUNS.inc()
        log.info("pods recomputed", extra={"comments": len(comments), "pods": len(pods)})
        return len(pods)
