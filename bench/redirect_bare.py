"""The baseline of bench/attribution_redirect.py: a bare FastAPI app whose `/r/{slug}` answers a
302 to a fixed URL, touching nothing else. The bench serves it under uvicorn with the gateway's
own settings (one process, no access log, no proxy headers)."""

from fastapi import FastAPI
from starlette.responses import RedirectResponse

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

# The click id as long as the redirect's (118 characters: a signed click id carrying the click,
# shared/clicks/token.py), so both answers carry the same bytes.
TARGET = "https://shop.example/products/serum?utm_source=bench&ll_click=" + "A" * 118


@app.get("/r/{slug}")
async def follow(slug: str) -> RedirectResponse:
    return RedirectResponse(TARGET, status_code=302, headers={"Cache-Control": "no-store"})
