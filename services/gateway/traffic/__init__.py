"""The gateway's traffic policy, as pure ASGI layers (docs/guide/gateway.md, "Traffic policy").

In request order: `SecurityHeaders` (outermost, decorates every answer), `Cors`,
`AddressRateLimit` (public routes and failed authentications, per client address), `BodyLimit`
(413), then the identity layer's `Authenticate`, then `KeyRateLimit` (per credential, shared by
every replica through leases on a PostgreSQL bucket: docs/decisions/0014). No layer buffers a
body or starts a task per request: the gateway's CPU per proxied request is its cost.
"""
