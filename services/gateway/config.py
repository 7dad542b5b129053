import ipaddress
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from services.gateway.traffic.limits import PlanLimit
from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    discovery_url: str = Field(default="http://127.0.0.1:8001", description="Base URL of the discovery service.")
    audit_url: str = Field(default="http://127.0.0.1:8002", description="Base URL of the audit service.")
    attribution_url: str = Field(default="http://127.0.0.1:8003", description="Base URL of the attribution service.")
    upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=300, description="Default upstream timeout.")
    discovery_timeout_seconds: float | None = Field(default=None, gt=0, le=300, description="Overrides the default for discovery.")
    audit_timeout_seconds: float | None = Field(default=None, gt=0, le=300, description="Overrides the default for audit.")
    attribution_timeout_seconds: float | None = Field(default=None, gt=0, le=300, description="Overrides the default for attribution.")
    upstream_max_connections: int = Field(default=200, ge=1, le=10_000, description="Pooled connections to all upstreams.")
    # Below uvicorn's default --timeout-keep-alive (5 s): the gateway drops an idle connection
    # before the upstream does, instead of racing its close with a new request.
    upstream_keepalive_seconds: float = Field(
        default=2.0, gt=0, le=300, description="Idle pooled upstream connections are closed after this many seconds."
    )
    openapi_cache_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="How long the merged /openapi.json is reused before it is rebuilt."
    )
    gateway_operator_host: str = Field(
        default="127.0.0.1", description="Address of the operator listener (/readyz, /metrics); keep it private."
    )
    gateway_operator_port: int = Field(
        default=8090, ge=0, le=65535, description="Port of the operator listener (0: any free port)."
    )
    gateway_metrics_allow: list[str] = Field(
        default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
        description="Client networks (CIDR) that may read /metrics on the public port; every other address "
        "gets 404. The operator listener serves /metrics regardless.",
    )

    gateway_identity_private_key: str | None = Field(
        default=None,
        description="PEM Ed25519 private key that signs the identity token sent to each service (required).",
    )
    gateway_secrets_key: str | None = Field(
        default=None,
        description="Fernet key(s), comma-separated newest first, encrypting partner webhook secrets at rest.",
    )
    key_cache_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="A cached API key is re-read from the database after this long."
    )
    key_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often each replica looks for revoked or changed keys."
    )

    # --- webhooks (helper HOOKS) ---
    gateway_max_webhook_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=16 * 1024 * 1024,
        description="Largest partner webhook body accepted; larger ones answer 413 before being read.",
    )
    gateway_webhook_secret_grace_seconds: int = Field(
        default=24 * 3600, ge=0, le=30 * 24 * 3600,
        description="After a webhook secret rotation the previous secret is still accepted this long.",
    )
    gateway_webhook_signature_tolerance_seconds: int = Field(
        default=300, ge=30, le=3600,
        description="A generic webhook whose signed timestamp is further than this from now is refused.",
    )
    gateway_webhook_source_cache_seconds: float = Field(
        default=5.0, ge=0, le=300,
        description="A webhook source and its decrypted secrets are reused this long by the receivers of one "
        "gateway process; a change made through this process applies at once, one made on another replica "
        "within this bound. 0: read the source on every delivery.",
    )
    gateway_webhook_publish_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60,
        description="Time to get a webhook acknowledged by Kafka (acks=all) before answering 503.",
    )
    gateway_webhook_delivery_retention_hours: float = Field(
        default=7 * 24, gt=0, le=90 * 24,
        description="Accepted webhook delivery ids are remembered (replays answered 200) this long.",
    )
    gateway_webhook_prune_interval_seconds: float = Field(
        default=3600, gt=0, le=86_400, description="How often expired webhook delivery ids are deleted."
    )
    # --- end webhooks ---

    @field_validator("gateway_metrics_allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        # Refused at start-up, not on the first scrape.
        return [str(ipaddress.ip_network(v.strip(), strict=False)) for v in value]

    # --- traffic (helper TRAFFIC) ---
    gateway_rate_limits: dict[str, PlanLimit] = Field(
        default_factory=lambda: {
            "standard": PlanLimit(rate=50, burst=100),
            "growth": PlanLimit(rate=200, burst=400),
            "enterprise": PlanLimit(rate=1000, burst=2000),
        },
        description='Per-credential token bucket of each tenant plan, JSON: {"plan": {"rate": <per second>, '
        '"burst": <requests>}}. Must name "standard", which also applies to any plan not listed.',
    )
    gateway_rate_limit_lease_seconds: float = Field(
        default=0.5, gt=0, le=10,
        description="Each replica leases about this many seconds of a credential's rate from the shared bucket "
        "at once (capped at a quarter of the burst): fewer database round trips against a larger overshoot bound.",
    )
    gateway_rate_limit_db_timeout_seconds: float = Field(
        default=1.0, gt=0, le=10,
        description="A lease taking longer counts as the database being down: per-replica limits for a second. "
        "Requests of a key wait for its lease at most this long.",
    )
    gateway_tenant_rate_multiplier: float = Field(
        default=4.0, ge=1, le=1000,
        description="All credentials of one tenant together get this many times one credential's plan "
        "(a tenant cannot multiply its limit by making more keys).",
    )
    gateway_address_rate_limit: PlanLimit = Field(
        default_factory=lambda: PlanLimit(rate=20, burst=100),
        description="Per client address, per replica: requests to /r/ and /shared/, failed authentications, and failed "
        "webhook deliveries (unknown source, bad signature: any 4xx).",
    )
    gateway_webhook_address_rate_limit: PlanLimit = Field(
        default_factory=lambda: PlanLimit(rate=1000, burst=5000),
        description="Per client address, per replica: requests to /webhooks/. Sized for a partner that sends "
        "every delivery, for every source it serves, from one host.",
    )
    gateway_webhook_source_rate_limit: PlanLimit = Field(
        default_factory=lambda: PlanLimit(rate=500, burst=5000),
        description="Per webhook source, per replica: accepted deliveries (only a verified delivery spends a "
        "token, so nobody without the secret can use up a partner's). The burst absorbs a flash sale.",
    )
    gateway_max_body_bytes: int = Field(
        default=1024 * 1024, ge=0, le=1024**3, description="Largest request body on API routes (413 past it)."
    )
    gateway_max_bulk_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=0, le=1024**3,
        description="Largest request body on the bulk routes (gateway_bulk_routes); every other route keeps "
        "gateway_max_body_bytes.",
    )
    gateway_bulk_routes: list[str] = Field(
        default_factory=lambda: ["/v1/discovery/creators/bulk", "/v1/audit/followers/bulk", "/v1/audit/comments/bulk"],
        description="Exact paths that take bulk bodies (NDJSON ingest) up to gateway_max_bulk_body_bytes, "
        "with gateway_bulk_timeout_seconds to answer.",
    )
    gateway_bulk_timeout_seconds: float = Field(
        default=300.0, gt=0, le=3600,
        description="Upstream timeout on the bulk routes (gateway_bulk_routes), in place of the service's: a "
        "10,000-line ingest commits in seconds, minutes on a busy host, and a 504 would hide that it did.",
    )
    gateway_slow_routes: list[str] = Field(
        default_factory=lambda: [
            "/v1/audit/audits/{audit_id}/report", "/v1/attribution/campaigns/{campaign_id}/attribution",
        ],
        description="Path templates ({name} is one segment) of routes whose answer takes longer than the "
        "service's timeout allows (the audit report printed to PDF by a browser; the attribution models "
        "fitted side by side over a campaign's paths, seconds of CPU at their caps), each given "
        "gateway_slow_timeout_seconds instead.",
    )
    gateway_slow_timeout_seconds: float = Field(
        default=60.0, gt=0, le=3600,
        description="Upstream timeout on gateway_slow_routes, never shorter than the service's own.",
    )
    gateway_cors_origins: list[str] = Field(
        default_factory=list,
        description='Frontend origins allowed to call the API from a browser, JSON list, e.g. ["https://app.example.com"].',
    )
    gateway_cors_max_age_seconds: int = Field(
        default=600, ge=0, le=86_400, description="How long a browser may reuse a CORS preflight answer."
    )
    gateway_hsts_seconds: int = Field(
        default=0, ge=0, le=63_072_000,
        description="Strict-Transport-Security max-age; 0 sends none (set it when TLS ends in front of the gateway).",
    )

    @field_validator("gateway_rate_limits")
    @classmethod
    def _standard_plan_is_limited(cls, value: dict[str, PlanLimit]) -> dict[str, PlanLimit]:
        if "standard" not in value:
            raise ValueError('must include the "standard" plan: it applies to every plan not listed')
        return value

    @field_validator("gateway_cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*" or not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com (no path, no '*')")
        return value

    # --- JWT (helper KEYS) ---
    # Frontend apps' JWTs (services/gateway/identity/jwt.py, docs/decisions/0018). No algorithm
    # listed: JWTs are off and only API keys are accepted. The rotation grace sits here too: it
    # is the other credential setting.
    gateway_key_rotation_grace_seconds: int = Field(
        default=86_400, ge=0, le=30 * 86_400,
        description="How long a rotated API key keeps working, unless the rotation asks for less.",
    )
    gateway_jwt_algorithms: Annotated[list[Literal["HS256", "RS256", "ES256"]], NoDecode] = Field(
        default_factory=list,
        description="JWT algorithms accepted, comma-separated (HS256, RS256, ES256); empty: JWTs are refused.",
    )
    gateway_jwt_issuer: str | None = Field(default=None, description="The only `iss` accepted (required with JWTs).")
    gateway_jwt_audience: str | None = Field(default=None, description="The `aud` a token must name (required with JWTs).")
    gateway_jwt_hs256_secret: str | None = Field(
        default=None, min_length=32, description="Shared secret of HS256 tokens (at least 32 characters)."
    )
    gateway_jwt_public_key: str | None = Field(
        default=None, description="PEM RSA or EC P-256 public key(s), several concatenated during a rotation."
    )
    gateway_jwt_jwks_url: str | None = Field(
        default=None, description="JWKS URL of the identity provider; keys are picked by `kid`."
    )
    gateway_jwt_jwks_cache_seconds: float = Field(
        default=300.0, ge=1, le=86_400, description="How long fetched JWKS keys are used before fetching again."
    )
    gateway_jwt_max_lifetime_seconds: int = Field(
        default=3600, ge=1, le=86_400, description="Tokens whose exp - iat exceeds this are refused."
    )
    gateway_jwt_leeway_seconds: int = Field(
        default=30, ge=0, le=300, description="Clock difference tolerated on exp, nbf and iat."
    )
    gateway_jwt_tenant_claim: str = Field(default="tid", min_length=1, description="The claim naming the tenant id.")

    @field_validator("gateway_jwt_algorithms", mode="before")
    @classmethod
    def _split_algorithms(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _jwt_complete(self) -> "GatewaySettings":
        """A JWT configuration that could not verify anything is refused at start-up, not per request."""
        algorithms = set(self.gateway_jwt_algorithms)
        if not algorithms:
            return self
        if not self.gateway_jwt_issuer or not self.gateway_jwt_audience:
            raise ValueError("GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE are required when JWTs are enabled")
        if "HS256" in algorithms and not self.gateway_jwt_hs256_secret:
            raise ValueError("HS256 is enabled but GATEWAY_JWT_HS256_SECRET is not set")
        if algorithms - {"HS256"} and not (self.gateway_jwt_public_key or self.gateway_jwt_jwks_url):
            raise ValueError("RS256/ES256 need GATEWAY_JWT_PUBLIC_KEY or GATEWAY_JWT_JWKS_URL")
        return self


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
