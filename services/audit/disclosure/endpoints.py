from fastapi import APIRouter

from services.audit.disclosure import service
from services.audit.disclosure.schemas import DisclosureCheck, DisclosureCheckRead, RulesRead
from shared.identity import requires

router = APIRouter()


@router.get("/rules", response_model=RulesRead, dependencies=[requires("audits:read")])
async def get_rules() -> RulesRead:
    """The disclosure rule sets an audit grades against: each jurisdiction's version, sources and
    rules (terms, verdict, reason, cited section), and the platforms' folds."""
    return service.rules()


@router.post("/check", response_model=DisclosureCheckRead, dependencies=[requires("audits:read")])
def check_posts(body: DisclosureCheck) -> DisclosureCheckRead:
    """Check captions before they go out: whether each post counts as sponsored and, if so, its
    verdict (pass, fail, needs_review) per jurisdiction with the reason and deciding rule. Nothing
    is stored. 422 names a bad field, including an unknown jurisdiction."""
    # A plain function: FastAPI runs it on a worker thread, so up to 500 captions of grading do
    # not hold the event loop.
    return service.check(body)
