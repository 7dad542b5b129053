from shared.db import make_base

SCHEMA = "gateway"
SERVICE = "gateway"

# Tenants, API keys and webhook secrets land here with the gateway issue.
Base = make_base(SCHEMA)
