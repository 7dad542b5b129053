"""The brand-safety engine, pure: how terms match (docs/guide/audit-brand-safety.md)."""

import uuid

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.audit.engine.brandsafety.lists import DEFAULT_VERSION, Term, TermList, default_list
from services.audit.engine.brandsafety.matcher import compile_list
from services.audit.engine.brandsafety.normalise import fold, fold_term
from services.audit.engine.brandsafety.scan import excerpt, scan


def matcher(*terms: str, category: str = "test", exceptions: dict | None = None):
    exceptions = exceptions or {}
    return compile_list(
        TermList(label="mine", version="r1", list_id=None,
                 terms=tuple(Term(t, category, tuple(exceptions.get(t, ()))) for t in terms))
    )


def matched(text: str, *terms: str, **kwargs) -> list[str]:
    return [m.matched for m in matcher(*terms, **kwargs).find(text)]


DEFAULT = compile_list(default_list().terms)


def categories(text: str) -> list[tuple[str, str]]:
    return [(f.category, f.term) for f in scan(text, [DEFAULT])]


@pytest.mark.parametrize(
    "text, term",
    [("a first class seat", "ass"), ("it has begun", "gun"), ("cokepasta", "coke"), ("#guncontrol", "gun"),
     ("gunsmith", "gun"), ("shotgun", "gun"), ("guns_n_roses", "roses_x"), ("Bett", "bet"), ("ginn", "gin")],
)
def test_a_term_does_not_match_inside_another_word(text, term):
    assert matched(text, term) == []


def test_a_term_matches_a_whole_word_beside_punctuation():
    assert matched("gun, (gun) gun! 'gun' gun.", "gun") == ["gun"] * 5


def test_case_and_accents_are_folded_both_ways():
    assert matched("COCAÍNA, cocaina y Cocaína", "cocaína") == ["COCAÍNA", "cocaina", "Cocaína"]
    assert matched("la cocaína", "cocaina") == ["cocaína"]


def test_german_sharp_s_matches_double_s_both_ways():
    assert matched("So eine Scheisse, Scheiße, SCHEISSE", "Scheiße") == ["Scheisse", "Scheiße", "SCHEISSE"]
    assert matched("die Straße", "strasse") == ["Straße"]


def test_compatibility_forms_fold_to_plain_letters():
    assert matched("ｆｕｃｋ and 𝐟𝐮𝐜𝐤", "fuck") == ["ｆｕｃｋ", "𝐟𝐮𝐜𝐤"]


def test_a_phrase_tolerates_spaces_punctuation_or_none_between_its_words():
    assert matched("hate   speech; hate-speech; #hatespeech; hate\nspeech", "hate speech") == [
        "hate   speech", "hate-speech", "hatespeech", "hate\nspeech"]


def test_a_phrase_needs_its_whole_last_word():
    assert matched("hate speechless", "hate speech") == []


def test_a_hashtag_is_a_word_and_camel_case_inside_it_splits_words():
    assert matched("#guns", "guns") == ["guns"]
    assert matched("#GunControl now", "gun control") == ["GunControl"]
    assert matched("#GunControl now", "gun") == ["Gun"]
    # Outside a hashtag a case change splits nothing.
    assert matched("GunControl", "gun") == []


def test_stretched_letters_match_but_a_doubled_single_letter_does_not():
    assert matched("fuuuuck fuck", "fuck") == ["fuuuuck", "fuck"]
    assert matched("fuuck", "fuck") == []
    assert matched("killll kill", "kill") == ["killll", "kill"]


def test_stretching_repeats_the_letter_never_a_leetspeak_sign():
    # A class repeating "$" or "@" made a comment of 5,000 "@" cost seconds of backtracking.
    assert matched("sssshit $$$$hit shiiit", "shit") == ["sssshit", "$hit", "shiiit"]
    assert matched("a$$ a$$$ asss guns$$$", "ass", "guns") == ["a$$", "a$$", "asss", "guns"]


def test_leetspeak_matches_unless_the_match_is_mostly_digits():
    assert matched("sh1t and $hit", "shit") == ["sh1t", "$hit"]
    assert matched("c0ca1ne", "cocaine") == ["c0ca1ne"]
    assert matched("455 likes", "ass") == []
    assert matched("a55", "ass") == []
    assert matched("@ss", "ass") == ["@ss"]


def test_a_term_with_digits_matches_as_written():
    assert matched("bet365 odds", "bet365") == ["bet365"]


def test_longest_term_wins_where_two_start_together():
    found = [(m.term.text, m.matched) for m in matcher("gun", "gun control").find("gun control laws")]
    assert found == [("gun control", "gun control")]


def test_an_exception_phrase_hides_the_term_inside_it_only():
    assert matched("a glue gun and a gun", "gun", exceptions={"gun": ["glue gun"]}) == ["gun"]


def test_the_default_list_hits_by_category_in_several_languages():
    text = "Vodka, Kokain und Sportwetten; la fusillade; el tiroteo; porn; white power; mierda; vota por él"
    assert categories(text) == [
        ("alcohol", "vodka"), ("drugs", "Kokain"), ("gambling", "Sportwetten"), ("violence", "fusillade"),
        ("violence", "tiroteo"), ("adult", "porn"), ("hate", "white power"), ("profanity", "mierda"),
        ("politics", "vota por"),
    ]


def test_the_default_list_reports_words_that_fold_alike_once_per_category():
    # English "cocaine" and French "cocaïne" fold to one word: one hit, the first listed.
    assert categories("Cocaïne") == [("drugs", "cocaine")]


def test_the_default_list_knows_harmless_uses():
    assert categories("my poker face, a nail gun and the nudes palette") == []
    assert categories("poker night") == [("gambling", "poker")]


def test_the_default_list_is_versioned_and_names_its_framework():
    default = default_list()
    assert default.terms.version == DEFAULT_VERSION == "brand-safety-v1"
    assert "GARM" in default.source
    assert set(default.categories) >= {
        "violence", "adult", "drugs", "hate", "profanity", "gambling", "politics", "competitor_brands"}
    assert not [t for t in default.terms.terms if t.category == "competitor_brands"]


def test_each_hit_says_what_matched_where_with_an_excerpt():
    list_id = uuid.uuid4()
    own = compile_list(TermList(label="Competitors", version="r2", list_id=list_id,
                                terms=(Term("Acme Cola", "competitor_brands"),)))
    text = "Up at six, coffee first. Morning run done. Then an ice cold ACME-cola at the beach, best day ever with the whole crew #summer"
    [found] = scan(text, [DEFAULT, own])
    assert (found.category, found.term, found.matched, found.list, found.list_id) == (
        "competitor_brands", "Acme Cola", "ACME-cola", "Competitors", list_id)
    assert text[found.start:found.end] == "ACME-cola"
    assert found.excerpt == "…Morning run done. Then an ice cold ACME-cola at the beach, best day ever with the…"
    [default_hit] = scan("so much beer", [DEFAULT])
    assert (default_hit.list, default_hit.list_id) == (DEFAULT_VERSION, None)


def test_an_excerpt_of_a_short_text_is_the_whole_text_with_spaces_collapsed():
    assert excerpt("too\n\nmuch  beer", 11, 15) == "too much beer"


def test_folding_keeps_the_way_back_to_the_original():
    folded, origin = fold("Straße #GunControl")
    assert folded == "strasse #gun control"
    assert origin[4:6] == [4, 4]  # "ss", both from "ß"
    assert origin[folded.index(" control"):][:2] == [11, 11]  # the space put before "C", and "C"


def test_a_term_of_symbols_only_matches_wherever_it_stands():
    assert matched("party🔫🔫 tonight", "🔫") == ["🔫", "🔫"]
    assert matched("bank 💰", "$$$") == []
    assert matched("only US$$$", "$$$") == ["$$$"]


@given(st.text(max_size=200))
def test_folding_maps_every_folded_character_to_one_of_the_text_in_order(text):
    folded, origin = fold(text)
    origin = list(range(len(text))) if origin is None else origin
    assert len(origin) == len(folded)
    assert origin == sorted(origin) and all(0 <= i < len(text) for i in origin)


@given(
    st.sampled_from([t.text for t in default_list().terms.terms]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüéß", min_size=1, max_size=3),
    st.booleans(),
)
def test_a_listed_term_glued_to_letters_is_not_found_and_set_apart_is(term, letters, before):
    # Letters equal to the term's own edge letter would only stretch it ("vodka" + "aa").
    edge = fold_term(term)[0] if before else fold_term(term)[-1]
    assume(edge not in fold_term(letters))
    glued = letters + term if before else term + letters
    apart = letters + " " + term if before else term + ", " + letters
    assert term not in [m.term.text for m in DEFAULT.find(glued)]
    assert [m.matched for m in DEFAULT.find(apart) if m.term.text == term or m.matched == term] == [term]
