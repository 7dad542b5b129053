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
