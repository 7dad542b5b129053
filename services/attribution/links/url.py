"""A destination URL a tracked link may send shoppers to, and the URL the redirect sends them to.

Refused: anything but http and https (javascript:, data:, file: would turn our domain into a
launcher for them); credentials (user:password@ would put a secret in every shopper's history and
let a link pose as another host: https://shop.example@evil.test/); no host; whitespace or control
characters (a URL that reads differently to us and to the browser); over 2048 characters (what
every browser and sitemap tooling handles); localhost and private, loopback, link-local or
otherwise non-global address literals (a link to 127.0.0.1 or 10.0.0.5 can only be a mistake or
an attempt to point shoppers, or a future link-checker of ours, at someone's internal network:
docs/decisions/0033). A host name that resolves to a private address is not looked up here:
resolving at creation proves nothing about what it resolves to at click time.
"""

import ipaddress
import re
import unicodedata

import idna
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# The click id a tracked link appends at redirect time; partners pass it back in the landing URL
# and orders are credited by it (the orders part defines the same constant).
CLICK_ID_PARAM = "ll_click"
# WHATWG URL, "ends in a number": a host whose last label is a number is read by browsers as an
# IPv4 address (http://2130706433/ and http://0x7f.1/ are 127.0.0.1).
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


def problem(url: str) -> str | None:
    """Why the URL cannot be a destination, or None."""
    if len(url) > MAX_URL_LENGTH:
        return f"at most {MAX_URL_LENGTH} characters"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "must not contain whitespace or control characters (percent-encode them)"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number in 0..65535
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an http or https URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not carry credentials (user:password@)"
    # As a browser reads it (WHATWG URL): a host's percent-escapes are decoded before anything
    # else, so http://127.0.0.%31/ is 127.0.0.1 and http://loc%61lhost/ is localhost.
    host = unquote(parts.hostname or "").rstrip(".").lower()
    if not host:
        return "must name a host"
    if any(c.isspace() or ord(c) < 0x20 or c in "%/@\\" for c in host):
        return "the host must not hold spaces, control characters or any of % / @ \\ once decoded"
    if any(unicodedata.category(c) == "Cf" for c in host):
        return "the host must not hold invisible characters (a zero-width joiner, a direction mark...)"
    if port == 0:
        return "port 0 is not a port"
    if host == "localhost" or host.endswith(".localhost"):
        return "must not point at localhost"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if _NUMERIC_LABEL.match(host.lower().rsplit(".", 1)[-1]):
            return "an address must be written as four decimal numbers (a.b.c.d) or a bracketed IPv6 address"
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global:
        return f"must not point at a private, loopback or reserved address ({address})"
    return None


def ascii_host(url: str) -> str:
    """`url` with its host written as browsers resolve it, in ASCII: percent-escapes decoded and
    each internationalised label in its `xn--` form (`münchen.example` → `xn--mnchen-3ya.example`,
    IDNA 2008 with UTS 46 mapping). A redirect's Location header is ASCII, and a host
    percent-encoded there is one some HTTP clients cannot follow; a look-alike host (a Cyrillic
    `ѕ` in `ѕhop.example`) then shows for what it is. ASCII labels are kept as written (browsers
    accept `my_shop` or `-shop`, which strict IDNA refuses), and a label IDNA 2008 cannot encode
    (an emoji domain, which browsers still open) leaves the URL as it was. The rest of the URL is
    kept as written. Call it on a URL `problem` accepts (no credentials)."""
    parts = urlsplit(url)
    host = unquote(parts.hostname or "")
    if host.isascii() and host == parts.hostname:
        return url
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label.lower())
            continue
        try:
            labels.append(idna.encode(label, uts46=True).decode("ascii"))
        except idna.IDNAError:
            return url
    # A destination has no credentials (`problem`) and an IPv6 literal is ASCII: the netloc is
    # the host and its port.
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=".".join(labels) + port))


def query_names(url: str) -> set[str]:
    return {name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}


def with_parameters(url: str, parameters: dict[str, str]) -> str:
    """`url` with `parameters` appended to its query, each only if the query does not already
    have it: the brand's own UTM tagging wins. The existing query is kept byte for byte."""
    parts = urlsplit(url)
    present = query_names(url)
    added = urlencode([(k, v) for k, v in parameters.items() if k not in present])
    if not added:
        return url
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))
