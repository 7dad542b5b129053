"""The whole attribution URL map. Campaigns, links, webhooks and reports arrive with the
attribution issue; the skeleton serves only the operational endpoints every service has."""

from fastapi import APIRouter

router = APIRouter()
