"""commands.arguments: word splitting and typed converters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.arguments import Choice, Integer, Text, UserId, Word, split_first, split_words
from commands.errors import BadArgument


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a b  c", ["a", "b", "c"]),
        ("  a\tb\nc  ", ["a", "b", "c"]),
        ('"atelier vélo" samedi', ["atelier vélo", "samedi"]),
        ("« atelier vélo » samedi", ["atelier vélo", "samedi"]),
        ("«atelier vélo» samedi", ["atelier vélo", "samedi"]),
        ("“atelier vélo” samedi", ["atelier vélo", "samedi"]),
        ("l'atelier d'été", ["l'atelier", "d'été"]),
        ("aujourd’hui l’AG", ["aujourd’hui", "l’AG"]),
        ('"pas fermé', ["pas fermé"]),
        ("", []),
        ("   ", []),
        ("🌍 climat 🚲", ["🌍", "climat", "🚲"]),
    ],
)
def test_split_words(text: str, words: list[str]) -> None:
    assert split_words(text) == words


def test_quote_inside_a_word_is_a_letter() -> None:
    assert split_words('x"y z"') == ['x"y', 'z"']


def test_split_first() -> None:
    assert split_first("  ping   a b ") == ("ping", "a b")
    assert split_first("ping") == ("ping", "")
    assert split_first("   ") == ("", "")


@given(st.lists(st.text(alphabet="abcdéèçàù'’-_0123456789", min_size=1, max_size=8), max_size=8))
def test_split_words_round_trip_plain_words(words: list[str]) -> None:
    assert split_words("  ".join(words)) == words


@given(st.text(max_size=200))
def test_split_words_never_crashes_and_gives_no_space_padded_words(text: str) -> None:
    for word in split_words(text):
        assert word == word.strip()


# --- Text ---------------------------------------------------------------------------------------

def test_text_strips_and_keeps_unicode() -> None:
    assert Text().convert("  Réunion à 18 h 🌱  ") == "Réunion à 18 h 🌱"


@pytest.mark.parametrize("raw", ["", "   ", "\n\t"])
def test_text_empty_refused(raw: str) -> None:
    with pytest.raises(BadArgument) as info:
        Text().convert(raw)
    assert info.value.message_key == "error.empty_text"


def test_text_too_long_refused_at_the_limit() -> None:
    assert Text(max_length=10).convert("x" * 10) == "x" * 10
    with pytest.raises(BadArgument) as info:
        Text(max_length=10).convert("x" * 11)
    assert info.value.message_key == "error.text_too_long"
    assert info.value.values == {"maximum": 10}
    with pytest.raises(BadArgument):
        Text().convert("é" * 100_000)


# --- Word ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [("Aidé", "aide"), ("ÉTÉ", "ete"), (" Vélo ", "velo"),
                                            ("Straße", "strasse")])
def test_word_folds(raw: str, value: str) -> None:
    assert Word().convert(raw) == value


@pytest.mark.parametrize("raw", ["", "  ", "x" * 65])
def test_word_refused(raw: str) -> None:
    with pytest.raises(BadArgument) as info:
        Word().convert(raw)
    assert info.value.message_key == "error.bad_word"


def test_word_error_quotes_at_most_40_characters() -> None:
    with pytest.raises(BadArgument) as info:
        Word().convert("y" * 10_000)
    assert info.value.values["value"] == "y" * 40


# --- Integer ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [("12", 12), ("#12", 12), ("n°12", 12), ("N°12", 12),
                                            (" 7 ", 7), ("007", 7), ("1000000", 1_000_000)])
def test_integer_accepts(raw: str, value: int) -> None:
    assert Integer().convert(raw) == value


@pytest.mark.parametrize("raw", ["", "douze", "-3", "1.5", "12a", "#", "n°", "1 000", "9" * 10,
                                 "9" * 5000, "+4"])
def test_integer_refuses_non_numbers(raw: str) -> None:
    with pytest.raises(BadArgument) as info:
        Integer().convert(raw)
    assert info.value.message_key == "error.not_integer"
    assert len(str(info.value.values["value"])) <= 40


@pytest.mark.parametrize("raw", ["0", "1000001"])
def test_integer_range(raw: str) -> None:
    with pytest.raises(BadArgument) as info:
        Integer().convert(raw)
    assert info.value.message_key == "error.out_of_range"
    assert info.value.values == {"minimum": 1, "maximum": 1_000_000}


def test_integer_custom_range() -> None:
    assert Integer(minimum=0, maximum=5).convert("0") == 0
    with pytest.raises(BadArgument):
        Integer(minimum=0, maximum=5).convert("6")


@pytest.mark.parametrize("raw", ["²", "1²", "①"])
def test_integer_digit_like_characters_are_a_bad_argument(raw: str) -> None:
    with pytest.raises(BadArgument):
        Integer().convert(raw)


@given(st.text(max_size=30))
def test_integer_only_ever_raises_bad_argument_on_ascii(raw: str) -> None:
    ascii_raw = raw.encode("ascii", "ignore").decode()
    try:
        value = Integer().convert(ascii_raw)
    except BadArgument:
        return
    assert 1 <= value <= 1_000_000


# --- Choice -------------------------------------------------------------------------------------

CHOICE = Choice((("oui", ("yes", "o")), ("si-necessaire", ("si nécessaire", "maybe")),
                 ("non", ("no",))))


@pytest.mark.parametrize(("raw", "value"), [("oui", "oui"), ("OUI", "oui"), ("Yes", "oui"),
                                            ("o", "oui"), ("Si Nécessaire", "si-necessaire"),
                                            ("maybe", "si-necessaire"), (" non ", "non"),
                                            ("NO", "non")])
def test_choice_matches_values_and_aliases(raw: str, value: str) -> None:
    assert CHOICE.convert(raw) == value


@pytest.mark.parametrize("raw", ["", "peut-être", "ou", "nonn"])
def test_choice_refused_lists_choices(raw: str) -> None:
    with pytest.raises(BadArgument) as info:
        CHOICE.convert(raw)
    assert info.value.message_key == "error.bad_choice"
    assert info.value.values["choices"] == "oui, si-necessaire, non"


# --- UserId -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("@alice:example.org", "@alice:example.org"),
        ("  @alice:example.org ", "@alice:example.org"),
        ("@a.b_c=d-e/f+g:matrix.example.org:8448", "@a.b_c=d-e/f+g:matrix.example.org:8448"),
        ("https://matrix.to/#/@a:b", "@a:b"),
        ("https://matrix.to/#/@alice:example.org", "@alice:example.org"),
        ("https://matrix.to/#/@alice:example.org?via=example.org", "@alice:example.org"),
    ],
)
def test_user_id_accepts(raw: str, value: str) -> None:
    assert UserId().convert(raw) == value


def test_user_id_accepts_a_markdown_link_pill() -> None:
    assert UserId().convert("[Alice](https://matrix.to/#/@alice:example.org)") == "@alice:example.org"


@pytest.mark.parametrize("raw", ["", "alice", "@alice", "alice:example.org", "@Alice Martin:ex.org",
                                 "@alice:", "#salon:example.org", "https://matrix.to/#/!room:ex.org",
                                 "@élodie:example.org", "@" + "a" * 5000])
def test_user_id_refused(raw: str) -> None:
    with pytest.raises(BadArgument) as info:
        UserId().convert(raw)
    assert info.value.message_key == "error.bad_user"
    assert len(str(info.value.values["value"])) <= 60


def test_converters_name_their_kind() -> None:
    assert [c.kind for c in (Text(), Word(), Integer(), CHOICE, UserId())] == [
        "text", "word", "integer", "choice", "user"]


def test_people_reads_ids_and_pills_each_once_in_order() -> None:
    from commands.arguments import People

    raw = "@bob:example.org, https://matrix.to/#/@ana:example.org ; @bob:example.org @cy:x.org"
    assert People().convert(raw) == ("@bob:example.org", "@ana:example.org", "@cy:x.org")
    with pytest.raises(BadArgument):
        People().convert("@bob:example.org bob")  # one is not a user id: refused whole
    with pytest.raises(BadArgument):
        People(max_length=20).convert("@bob:example.org @ana:example.org")
