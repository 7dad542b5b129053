"""Partner webhooks: sources a tenant registers (`/v1/webhook-sources`), and the public
receivers (`/webhooks/shopify/{id}`, `/webhooks/generic/{id}`) that verify a delivery's
signature and publish it to `gateway.webhook.v1` before answering (ADR 0015)."""
