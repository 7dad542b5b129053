"""Audit's consumer of gateway.privacy.v1 (data-subject requests, docs/decisions/0054).

What each request does here:

- A customer (a shopper): audit holds no shopper data. The receipt says so ("none held"); an
  export's data is `{}`.
- A creator, export: what audit holds about the creator, as JSON: its copy of the creator
  (profile and accounts, as discovery last announced them), its audits (id, dates, status,
  score, grade, flags), the number of posts and follower points (copies of discovery's, which
  exports them), of follower-sample versions and sampled followers, of comments on its posts
  and of comments its accounts wrote on other creators' posts (by handle, on the same platform),
  the engagement pods naming it (the other accounts and creators in them counted, not named),
  the number of share links made of it in all workspaces, and its appeals (its own words: flag,
  comment, evidence, status and decision; the reviewers' notes are the workspaces'). A creator
  audit holds nothing about: "none held" and `{}`.
- A creator, erasure: deleted in one transaction, each table counted on the receipt (zero for a
  creator audit does not hold): its copy, posts, follower points, follower samples and their
  sampled followers, comments on its posts and the comments its accounts wrote elsewhere (its
  own words), its audits, the share links and appeals of every workspace, the engagement pods
  naming it (the pods job, told that comments changed, finds the others' again) and its audit
  events still waiting in the outbox. Events already on Kafka are not rewritten: they expire
  with their topic's retention. Its id is kept among the erased creators: discovery's events
  about it still on their way (published before discovery acted on the same request) are then
  ignored, instead of bringing part of it back (audit/handlers.py).

Each request is acted on once: its receipt (shared/privacy.py) is written in the transaction of
its processed-event record, and a request whose receipt exists already does nothing. The receipt
is the asking workspace's: GET /privacy/receipts/{request_id} (scope `admin`).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.audit.db import SERVICE, ProcessedEvent
from services.audit.privacy import service
from shared.app import ServiceContext
from shared.contracts.envelope import Envelope
from shared.contracts.privacy import PrivacyRequested
from shared.messaging.consumer import IdempotentConsumer
from shared.privacy import privacy_consumer as consumer_of


async def on_privacy_request(session: AsyncSession, event: Envelope[PrivacyRequested]) -> None:
    await service.act(session, event)


def privacy_consumer(ctx: ServiceContext) -> IdempotentConsumer:
    return consumer_of(ctx, SERVICE, ProcessedEvent, on_privacy_request)
