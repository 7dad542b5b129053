"""Gateway: the one door in front of the services (routing, auth, limits, webhooks, docs)."""
