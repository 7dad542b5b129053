"""Discovery's consumer of gateway.privacy.v1 (data-subject requests, docs/decisions/0054).

What each request does here:

- A customer (a shopper): discovery holds no shopper data. The receipt says so ("none held");
  an export's data is `{}`.
- A creator, export: what the index holds about the creator, as JSON: its own fields (the
  primary account's figures, the audit status projected from audit), contact details, price
  estimates, audience, every account, post and follower point, the sales records projected from
  attribution, and the number of shortlist entries naming it in all workspaces (a number only:
  their notes and tags are the workspaces' own). The search vectors made from its bio and
  captions are left out: numbers that only the index reads.
- A creator, erasure: the creator and everything about it are deleted in one transaction:
  accounts, posts, follower points, audience, contact details, price estimates, embeddings,
  the audit and sales projections, the shortlist entries naming it in every workspace (with
  their stage history), and its events still waiting in the outbox. Every table is counted on
  the receipt, zero for a creator the index does not hold. Events already on Kafka are not
  rewritten: they expire with their topic's retention. A later event about it (an audit result,
  a sales record) finds no creator and changes nothing; a stored answer to an idempotent POST
  /creators that made it expires with its key (24 hours), so that a retry cannot add it again.

Each request is acted on once: its receipt (shared/privacy.py) is written in the transaction of
its processed-event record, and a request whose receipt exists already does nothing. The receipt
is the asking workspace's: GET /privacy/receipts/{request_id} (scope `admin`).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.discovery.db import SERVICE, ProcessedEvent
from services.discovery.privacy import service
from shared.app import ServiceContext
from shared.contracts.envelope import Envelope
from shared.contracts.privacy import PrivacyRequested
from shared.messaging.consumer import IdempotentConsumer
from shared.privacy import privacy_consumer as consumer_of


async def on_privacy_request(session: AsyncSession, event: Envelope[PrivacyRequested]) -> None:
    await service.act(session, event)


def privacy_consumer(ctx: ServiceContext) -> IdempotentConsumer:
    return consumer_of(ctx, SERVICE, ProcessedEvent, on_privacy_request)
