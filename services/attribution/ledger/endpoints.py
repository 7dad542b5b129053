import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.responses import Response

from services.attribution.db import idempotency
from services.attribution.ledger import export, repository, service
from services.attribution.ledger.schemas import BalanceRead, ClaimRead, LedgerEntryRead, PayoutCreate, PayoutRead, State
from shared.app import model_response
from shared.db import ReadSession, Session, utcnow
from shared.errors import NotFound
from shared.idempotency import IdempotentRoute
from shared.identity import requires
from shared.money import Currency
from shared.openapi import error_responses
from shared.pagination import Page, PageOut
from shared.validation import NO_CONTROL_CHARACTERS

# Every route here is tenant-private (attribution/api.py marks them: shared.tenancy).
ledger = APIRouter()
payouts = APIRouter(route_class=IdempotentRoute)

EntryPage = PageOut[LedgerEntryRead]
BalancePage = PageOut[BalanceRead]
ClaimPage = PageOut[ClaimRead]
PayoutPage = PageOut[PayoutRead]

CreatorFilter = Annotated[uuid.UUID | None, Query(description="Only this creator's.")]
CurrencyFilter = Annotated[Currency | None, Query(description="Only amounts in this currency (ISO 4217).")]
SourceFilter = Annotated[
    str | None, Query(min_length=1, max_length=100, pattern=NO_CONTROL_CHARACTERS, description="Only this order source's.")
]
OrderFilter = Annotated[
    str | None,
    Query(min_length=1, max_length=255, pattern=NO_CONTROL_CHARACTERS, description="Only this order's (its id at the source)."),
]


@ledger.get("", response_model=EntryPage, dependencies=[requires("attribution:read")])
async def list_entries(
    session: ReadSession,
    page: Page,
    creator_id: CreatorFilter = None,
    campaign_id: Annotated[uuid.UUID | None, Query(description="Only this campaign's.")] = None,
    state: Annotated[State | None, Query(description="Only entries in this state.")] = None,
    currency: CurrencyFilter = None,
    payout_id: Annotated[uuid.UUID | None, Query(description="Only the entries a payout paid.")] = None,
    source: SourceFilter = None,
    order_id: OrderFilter = None,
) -> Response:
    """Your commission ledger, oldest entry first, one cursor page at a time: commissions (positive)
    and clawbacks (negative) in minor units, each with its order, reason and state. `source` with
    `order_id` gives one order's whole story."""
    found = await repository.entries_page(
        session, page, creator_id=creator_id, campaign_id=campaign_id, state=state, currency=currency,
        payout_id=payout_id, source=source, order_id=order_id,
    )
    return model_response(
        EntryPage(
            items=[LedgerEntryRead.of(e) for e in found[: page.limit]],
            next_cursor=repository.ENTRY_SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT),
        )
    )


@ledger.get("/balances", response_model=BalancePage, dependencies=[requires("attribution:read")])
async def list_balances(
    session: ReadSession, page: Page, creator_id: CreatorFilter = None, currency: CurrencyFilter = None
) -> Response:
    """What each creator has pending, approved (payable), paid and owed, per currency (never summed
    across currencies), by creator id then currency."""
    found = await repository.balances_page(session, page, creator_id=creator_id, currency=currency)
    return model_response(
        BalancePage(
            items=[BalanceRead.of(row) for row in found[: page.limit]],
            next_cursor=repository.BALANCE_SORTS.next_cursor(found, page.limit, repository.BALANCE_SORT),
        )
    )


@ledger.get("/claims", response_model=ClaimPage, dependencies=[requires("attribution:read")])
async def list_claims(session: ReadSession, page: Page, source: SourceFilter = None, order_id: OrderFilter = None) -> Response:
    """The refunds and cancellations received, oldest first, with what each has clawed back and what is
    still outstanding (its commission not recorded yet, or capped at what was left)."""
    found = (await repository.claims_page(session, page, source=source, order_id=order_id))
    shown = found[: page.limit]
    taken = await repository.clawed_back(session, [c.id for c in shown])
    return model_response(
        ClaimPage(
            items=[ClaimRead.of(c, taken.get(c.id, 0)) for c in shown],
            next_cursor=repository.CLAIM_SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT),
        )
    )


@payouts.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PayoutRead,
    responses=error_responses(409),
    dependencies=[requires("attribution:write"), idempotency.depends],
)
async def create_payout(body: PayoutCreate, session: Session) -> PayoutRead:
    """Pay one creator, in one currency, everything approved and not yet paid (clawbacks deducted):
    the entries become `paid`. 409 naming `body.creator_id` when there is nothing to pay or the net
    is not positive (a balance owed, carried to the next batch)."""
    return PayoutRead.of(await service.create_payout(session, body.creator_id, body.currency, utcnow()))


@payouts.get("", response_model=PayoutPage, dependencies=[requires("attribution:read")])
async def list_payouts(
    session: ReadSession, page: Page, creator_id: CreatorFilter = None, currency: CurrencyFilter = None
) -> Response:
    """Your payout batches, oldest first, one cursor page at a time."""
    found = await repository.payouts_page(session, page, creator_id=creator_id, currency=currency)
    return model_response(
        PayoutPage(
            items=[PayoutRead.of(p) for p in found[: page.limit]],
            next_cursor=repository.PAYOUT_SORTS.next_cursor(found, page.limit, repository.DEFAULT_SORT),
        )
    )


async def _payout(session, payout_id: uuid.UUID):
    found = await repository.payout(session, payout_id)
    if found is None:
        raise NotFound(f"payout {payout_id} does not exist")
    return found


@payouts.get("/{payout_id}", response_model=PayoutRead, dependencies=[requires("attribution:read")])
async def get_payout(payout_id: uuid.UUID, session: ReadSession) -> Response:
    """One payout batch; its entries are `GET /v1/attribution/ledger?payout_id=...`."""
    return model_response(PayoutRead.of(await _payout(session, payout_id)))


@payouts.get(
    "/{payout_id}/export.csv",
    response_class=Response,
    responses={
        status.HTTP_200_OK: {
            "description": "A header line, then the batch: creator_id, currency, amount (decimal, major units), "
            "amount_minor, entry_count, payout_id, created_on (RFC 4180, every field quoted).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    dependencies=[requires("attribution:read")],
)
async def export_payout(payout_id: uuid.UUID, session: ReadSession) -> Response:
    """The payout batch as a CSV file a finance team can pay from."""
    found = await _payout(session, payout_id)
    return Response(
        export.render(found), media_type="text/csv", headers={"Content-Disposition": export.filename(found)}
    )
