"""The attribution models side by side over a campaign's customer paths: GET /v1/attribution/campaigns/{id}/attribution."""
