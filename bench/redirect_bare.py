"""The baseline of bench/attribution_redirect.py: a bare FastAPI app whose `/r/{slug}` answers a
302 to a fixed URL, touching nothing else. The bench serves it under uvicorn with the gateway's
own settings (one process, no access log, no proxy headers)."""

from fastapi import FastAPI
from starlette.responses import RedirectResponse

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

TARGET = "https://shop.example/products/serum?utm_source=bench&ll_click=00000000-0000-0000-0000-000000000000"


@app.get("/r/{slug}")
async def follow(slug: str) -> RedirectResponse:
    return RedirectResponse(TARGET, status_code=302, headers={"Cache-Control": "no-store"})
