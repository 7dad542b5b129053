"""Business rules of webhook sources: what a source needs to be created, how its secret is
made, rotated and kept, and which secrets a delivery may be signed with right now.

Rotation keeps the replaced secret valid for a grace period (`GATEWAY_WEBHOOK_SECRET_GRACE_SECONDS`,
24 h by default), long enough to change it at the partner and for the partner's retries of
deliveries signed before the change. A second rotation within the grace period replaces the
previous secret: only the two newest are ever accepted (`cache.ReceivingSource.accepted_secrets`).
"""

import secrets
import uuid
from datetime import timedelta

from services.gateway.webhooks.models import WebhookSource
from services.gateway.webhooks.repository import Sources
from services.gateway.webhooks.schemas import (
    GenericSourceCreate,
    SecretRotation,
    ShopifySourceCreate,
    WebhookSourceRead,
    WebhookSourceUpdate,
    WebhookSourceWithSecret,
)
from services.gateway.webhooks.vault import Vault
from shared.db import utcnow
from shared.errors import Conflict, NotFound

GENERIC_SECRET_PREFIX = "whsec_"
HINT_LENGTH = 4


class KindConflict(Conflict):
    """409: a request the schema allows that does not fit this source's kind or current secret
    (its state, which no schema can know). The detail names the field, as a 422's does."""

    def __init__(self, field: str, reason: str):
        super().__init__([{"field": field, "reason": reason}])


def new_generic_secret() -> str:
    """256 random bits; the prefix makes a leaked one recognisable in a scan."""
    return GENERIC_SECRET_PREFIX + secrets.token_urlsafe(32)


def ingress_path(source: WebhookSource) -> str:
    return f"/webhooks/{source.kind}/{source.id}"


def to_read(source: WebhookSource) -> WebhookSourceRead:
    return WebhookSourceRead(
        id=source.id,
        kind=source.kind,  # type: ignore[arg-type]
        name=source.name,
        shop_domain=source.shop_domain,
        url=ingress_path(source),
        secret_hint="…" + source.secret_hint,
        rotated_at=source.rotated_at,
        previous_secret_expires_at=source.previous_secret_expires_at,
        disabled=source.disabled_at is not None,
        created_at=source.created_at,
        updated_at=source.updated_at,
    )


def with_secret(source: WebhookSource, secret: str | None) -> WebhookSourceWithSecret:
    return WebhookSourceWithSecret(**to_read(source).model_dump(), secret=secret)


async def create(
    sources: Sources, vault: Vault, body: ShopifySourceCreate | GenericSourceCreate
) -> tuple[WebhookSource, str | None]:
    """The new source, and its secret when the gateway generated it (shown once)."""
    if isinstance(body, ShopifySourceCreate):
        secret, shown, shop_domain = body.secret, None, body.shop_domain
    else:
        secret = shown = new_generic_secret()
        shop_domain = None
    now = utcnow()
    source = WebhookSource(
        id=uuid.uuid4(),
        kind=body.kind,
        name=body.name,
        shop_domain=shop_domain,
        secret_encrypted=vault.encrypt(secret),
        secret_hint=secret[-HINT_LENGTH:],
        created_at=now,
        updated_at=now,
    )
    return await sources.add(source), shown


async def _owned(sources: Sources, source_id: uuid.UUID) -> WebhookSource:
    source = await sources.get(source_id, for_update=True)
    if source is None:
        raise NotFound(f"no webhook source {source_id}")
    return source


def _refresh_encryption(source: WebhookSource, vault: Vault) -> None:
    """Every write re-encrypts under the newest GATEWAY_SECRETS_KEY key, so an old key can be
    retired once every source has been written since it was replaced."""
    source.secret_encrypted = vault.reencrypt(source.secret_encrypted)
    if source.previous_secret_encrypted is not None:
        source.previous_secret_encrypted = vault.reencrypt(source.previous_secret_encrypted)


async def update(sources: Sources, vault: Vault, source_id: uuid.UUID, body: WebhookSourceUpdate) -> WebhookSource:
    source = await _owned(sources, source_id)
    if body.shop_domain is not None and source.kind != "shopify":
        raise KindConflict("body.shop_domain", "only a Shopify source has a shop domain")
    if body.name is not None:
        source.name = body.name
    if body.shop_domain is not None:
        source.shop_domain = body.shop_domain
    if body.disabled is not None:
        source.disabled_at = (source.disabled_at or utcnow()) if body.disabled else None
    _refresh_encryption(source, vault)
    source.updated_at = utcnow()
    return source


async def rotate(
    sources: Sources, vault: Vault, source_id: uuid.UUID, body: SecretRotation, grace: timedelta
) -> tuple[WebhookSource, str | None]:
    """Make a new secret current; the replaced one stays accepted for `grace`."""
    source = await _owned(sources, source_id)
    if source.kind == "shopify":
        if body.secret is None:
            raise KindConflict("body.secret", "required for a Shopify source: paste the app's new client secret")
        if secrets.compare_digest(body.secret, vault.decrypt(source.secret_encrypted)):
            raise KindConflict("body.secret", "is the source's current secret")
        new, shown = body.secret, None
    else:
        if body.secret is not None:
            raise KindConflict("body.secret", "a generic source's secret is generated by the gateway; omit it")
        new = shown = new_generic_secret()
    now = utcnow()
    if grace > timedelta(0):
        source.previous_secret_encrypted = vault.reencrypt(source.secret_encrypted)
        source.previous_secret_expires_at = now + grace
    else:
        source.previous_secret_encrypted = source.previous_secret_expires_at = None
    source.secret_encrypted = vault.encrypt(new)
    source.secret_hint = new[-HINT_LENGTH:]
    source.rotated_at = source.updated_at = now
    return source, shown


async def remove(sources: Sources, source_id: uuid.UUID) -> None:
    await sources.remove(await _owned(sources, source_id))

