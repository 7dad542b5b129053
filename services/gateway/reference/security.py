"""What the public reference says about credentials.

Each service documents the gateway-to-service token (`LimelightIdentity`), which no client ever
sends. The merged document replaces it with the two credentials a client does send, keeps each
operation's scope, and marks public operations (`public()`) as needing none, so a client reads
from `/docs` exactly what each call needs. Any operation carrying a scope gets this treatment,
the gateway's own routes included, so a new route is documented without anyone remembering to.
"""

from typing import Any

from shared.openapi import SCOPE_EXTENSION, operation_scope, operations

# The header that services document; never part of the public reference.
SERVICE_SCHEME = "LimelightIdentity"
REQUIRED_SCOPE = "x-required-scope"

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "ApiKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ll_live_… / ll_test_…",
        "description": "An API key: `Authorization: Bearer ll_live_<43 characters>` (or `ll_test_…` for a "
        "test key). Shown once when created; its prefix (the first characters after `ll_live_`) is listed "
        "with the key so a leaked one can be recognised. Keys carry scopes; each operation names the one "
        "it needs. Create the first with `./limelight admin create-tenant NAME`.",
    },
    "Jwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A short-lived JWT issued by the installation's identity provider for a frontend app: "
        "`Authorization: Bearer <JWT>`. Issuer, audience, expiry, not-before and algorithm are checked; "
        "a claim carries the tenant and its scopes.",
    },
}


def public_security(document: dict[str, Any]) -> dict[str, Any]:
    """Rewrite every operation's security for clients: `[{"ApiKey": [scope]}, {"Jwt": [scope]}]`
    (either credential, holding the scope), or `[]` for a public operation."""
    components = document.setdefault("components", {})
    schemes = components.setdefault("securitySchemes", {})
    schemes.pop(SERVICE_SCHEME, None)
    schemes.update(SECURITY_SCHEMES)
    for _, _, operation in operations(document):
        scope = operation_scope(operation)
        operation.pop(SCOPE_EXTENSION, None)
        if scope is None:
            operation["security"] = []
            operation.pop(REQUIRED_SCOPE, None)
            continue
        operation["security"] = [{name: [scope]} for name in SECURITY_SCHEMES]
        operation[REQUIRED_SCOPE] = scope
        note = f"Requires scope `{scope}`."
        description = operation.get("description", "")
        if note not in description:
            operation["description"] = f"{description}\n\n{note}".strip()
    return document
