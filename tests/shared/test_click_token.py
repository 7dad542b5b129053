"""The click id (shared/clicks/token.py): the click, sealed; what it carries comes back exactly,
nothing of it can be read without the key, and nothing else is read as one."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from hypothesis import given, strategies as st

from shared.clicks import token as t
from shared.clicks.visitor import VisitorHasher

HASHER = VisitorHasher(b"k" * 32)
KEY = HASHER.token_key
AT = datetime(2026, 11, 29, 9, 30, 1, 123000, tzinfo=UTC)
ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def a_token(**kw) -> t.ClickToken:
    return t.ClickToken(**{"click_id": uuid.uuid4(), "link_id": uuid.uuid4(), "clicked_at": AT, "flag": 0, "group": None,
                           "visitor_hash": "ab" * 32, **kw})


@given(flag=st.integers(0, len(t.FLAG_KINDS) - 1), group=st.sampled_from(t.GROUPS), visitor=st.booleans(),
       millis=st.integers(0, 2**47))
def test_what_a_click_id_carries_comes_back_exactly(flag, group, visitor, millis):
    token = a_token(flag=flag, group=group, visitor_hash=uuid.uuid4().hex * 2 if visitor else None,
                    clicked_at=t.EPOCH + timedelta(milliseconds=millis))
    text = t.mint(KEY, token)
    assert len(text) == (118 if visitor else 75) and set(text) <= ALPHABET
    assert t.read(KEY, text) == token and t.click_uuid(KEY, text) == token.click_id


def test_nothing_it_carries_is_readable_without_the_key():
    token = a_token(visitor_hash=HASHER("81.2.69.160"))
    raw = base64.urlsafe_b64decode(t.mint(KEY, token) + "==")
    for carried in (token.click_id.bytes, token.link_id.bytes, bytes.fromhex(token.visitor_hash)[:8]):
        assert carried not in raw
    # Deterministic (one click, one id) but two clicks of one visitor share nothing visible.
    assert t.mint(KEY, token) == t.mint(KEY, token)
    other = t.mint(KEY, a_token(visitor_hash=token.visitor_hash, clicked_at=token.clicked_at, link_id=token.link_id))
    assert base64.urlsafe_b64decode(other + "==")[17:] != raw[17:]


def test_a_changed_character_another_key_or_no_key_is_not_read():
    text = t.mint(KEY, a_token())
    assert t.read(VisitorHasher(b"x" * 32).token_key, text) is None and t.read(None, text) is None
    assert t.click_uuid(None, text) is None  # not a plain UUID either
    for position in range(len(text)):
        changed = text[:position] + ("A" if text[position] != "A" else "B") + text[position + 1:]
        assert t.read(KEY, changed) is None, position


def test_the_key_is_derived_apart_from_the_visitor_hashes():
    assert VisitorHasher(b"k" * 32).token_key == KEY != VisitorHasher(b"j" * 32).token_key
    assert len(KEY) == 64 and all(KEY[:32] != bytes.fromhex(HASHER(label)) for label in (
        "limelight click id v1", "click id signature v1", ""))
    assert VisitorHasher(None).configured is False and VisitorHasher(b"k" * 32).configured is True


def sealed(plain: bytes, version: int = t.VERSION) -> str:
    """A click id sealed under KEY around any plaintext: a valid seal, a layout read must refuse."""
    raw = bytes([version]) + AESSIV(KEY).encrypt(plain, [bytes([version])])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("facts, visitor", [
    (0b0100_0000, b""),  # bit 6 set
    (0b0000_0101, b""),  # flag kind 5: unknown
    (0b0001_1000, b""),  # group 3: unknown
    (0b0010_0000, b""),  # says a visitor follows, none does
    (0b0000_0000, b"v" * 32),  # a visitor, not said
])
def test_a_sealed_id_of_a_layout_this_code_does_not_know_is_not_read(facts, visitor):
    plain = uuid.uuid4().bytes + uuid.uuid4().bytes + (1).to_bytes(6, "big") + bytes([facts]) + visitor
    text = sealed(plain)
    assert len(text) in t.LENGTHS and t.read(KEY, text) is None


def test_another_version_or_the_unused_bits_of_the_last_character_are_not_read():
    plain = uuid.uuid4().bytes + uuid.uuid4().bytes + (1).to_bytes(6, "big") + bytes([0])
    assert t.read(KEY, sealed(plain)) is not None and t.read(KEY, sealed(plain, version=2)) is None
    text = t.mint(KEY, a_token())  # 118 characters: the last one carries 4 bits and 2 unused ones
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(text[-1])
    assert last & 0b11 == 0
    assert t.read(KEY, text[:-1] + alphabet[last | 0b01]) is None
    for _ in range(20):  # the standard alphabet's spelling of an id with '-' or '_' in it
        standard = text.replace("-", "+").replace("_", "/")
        if standard != text:
            assert t.read(KEY, text) is not None and t.read(KEY, standard) is None
            break
        text = t.mint(KEY, a_token())
    else:
        raise AssertionError("no click id with '-' or '_' in 20")


@pytest.mark.parametrize("text", ["", "c_abc", str(uuid.uuid4()), "A" * 75, "A" * 118, "!" * 75, "ll" * 59])
def test_other_values_are_no_click_ids(text):
    assert t.read(KEY, text) is None


def test_a_plain_uuid_still_names_its_click():
    plain = uuid.uuid4()
    assert t.click_uuid(KEY, str(plain)) == plain and t.click_uuid(KEY, "c_abc") is None


def test_mint_refuses_what_it_could_not_read_back():
    with pytest.raises(ValueError):
        t.mint(KEY, a_token(visitor_hash="ab" * 16))
    with pytest.raises(ValueError):
        t.mint(KEY, a_token(flag=len(t.FLAG_KINDS)))


@pytest.mark.parametrize("reason, kind", [
    (None, 0), ("head request", 1), ("no user agent", 2), ("bot: Slackbot", 3), ("data centre: aws us-east-1", 4),
    ("something new", 3),
])
def test_the_flag_reason_is_kept_by_its_kind(reason, kind):
    assert t.flag_kind(reason) == kind
    assert t.read(KEY, t.mint(KEY, a_token(flag=kind))).flagged is (kind != 0)
