"""commands.lookalikes: hidden characters, words mixing scripts, TR39 look-alike names."""

from __future__ import annotations

import pytest

from commands.errors import BadArgument
from commands.lookalikes import (
    find_lookalike,
    has_hidden_characters,
    lookalike_keys,
    word_mixing_scripts,
)
from commands.projects.names import clean_name

FRENCH = ["Café réparation", "Île verte", "Œuvre", "L’atelier d’Anne-Marie (n°2) : 50 % !",
          "« Jardin » — été", "Ça roule", "ÉCOLE", "Vélo & co", "Repair café #3 + atelier = 100%",
          "Noël à Saint-Véran", "Jardin ❤️", "Repair Café ☕️", "👩‍🌾 Jardin", "Вело", "Ελληνικά",
          "日本語テスト", "Jardin 1️⃣"]


@pytest.mark.parametrize("name", FRENCH)
def test_ordinary_names_pass_every_check(name: str) -> None:
    assert clean_name(name) == name
    assert not has_hidden_characters(name) and word_mixing_scripts(name) is None


@pytest.mark.parametrize("char", ["\u3164", "\u2800", "\ufe0f", "\ufe00", "\u034f", "\u200b",
                                  "\u200c", "\u200d", "\u200e", "\u202e", "\u2066", "\u00ad",
                                  "\u2060", "\ufeff", "\u115f", "\u1160", "\uffa0", "\U000e0041",
                                  "\u180e", "\U0001d173", "\ue000", "\u0007"])
def test_hidden_characters(char: str) -> None:
    name = f"Jar{char}din"
    assert has_hidden_characters(name)
    with pytest.raises(BadArgument) as info:
        clean_name(name)
    assert info.value.message_key == "projects.name_invisible"


@pytest.mark.parametrize(("name", "word"), [("Atelier v\u0435lo", "v\u0435lo"),
                                            ("\u0391telier", "\u0391telier"),
                                            ("Vélo-\u0412ело", "Vélo-\u0412ело"),
                                            ("l'\u03b1telier", "l'\u03b1telier")])
def test_words_mixing_scripts(name: str, word: str) -> None:
    assert word_mixing_scripts(name) == word
    with pytest.raises(BadArgument) as info:
        clean_name(name)
    assert info.value.message_key == "projects.name_mixed_scripts"
    assert info.value.values["word"] == word


@pytest.mark.parametrize(("one", "other"), [
    ("Atelier vélo", "ATELIER VELO"), ("Coop Eco", "\u0421\u043e\u043e\u0440 \u0415\u0441\u043e"),
    ("Paypal", "\u0420\u0430ypal"), ("Zeus", "\u0396eus"), ("Jardin 10", "Jardin lO"),
    ("Atelier", "AteIier"), ("Vélo", "Ve\u0301lo"), ("ﬁlm", "film")])
def test_lookalike_names_share_their_key(one: str, other: str) -> None:
    assert set(lookalike_keys(one)) & set(lookalike_keys(other))
    assert find_lookalike(other, [(1, "Autre"), (7, one)]) == (7, one)


@pytest.mark.parametrize(("one", "other"), [("Atelier vélo", "Atelier vélos"),
                                            ("Vélo !", "Vélo ?"), ("Jardin 1", "Jardin 2"),
                                            ("Café", "Cafés"), ("Jardin 🌱", "Jardin 🌿")])
def test_different_names_do_not(one: str, other: str) -> None:
    assert not set(lookalike_keys(one)) & set(lookalike_keys(other))
    assert find_lookalike(other, [(1, one)]) is None
