"""bot.config: the keys of the bot's identity (profile, undecryptable messages), checked at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PIL import Image

from tests.unit.test_config import GOOD, _parse, _problems

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def matrix(**values: str) -> str:
    lines = "".join(f"{key} = {value}\n" for key, value in values.items())
    return GOOD.replace('password = "s3cret"\n', f'password = "s3cret"\n{lines}')


def test_undecryptable_notice_defaults_to_a_minute_and_is_read(tmp_path: Path) -> None:
    assert _parse(GOOD, tmp_path).matrix.undecryptable_notice_seconds == 60
    assert _parse(matrix(undecryptable_notice_seconds="0"),
                  tmp_path).matrix.undecryptable_notice_seconds == 0
    assert _parse(matrix(undecryptable_notice_seconds="300"),
                  tmp_path).matrix.undecryptable_notice_seconds == 300


@pytest.mark.parametrize("value", ["-1", "86401", '"une minute"', "true"])
def test_bad_undecryptable_notice_is_a_problem(tmp_path: Path, value: str) -> None:
    assert set(_problems(matrix(undecryptable_notice_seconds=value), tmp_path)) == {
        "matrix.undecryptable_notice_seconds"}


def test_profile_defaults_leave_the_profile_alone(tmp_path: Path) -> None:
    settings = _parse(GOOD, tmp_path).matrix
    assert settings.display_name == "" and settings.avatar is None


def test_display_name_and_avatar_are_read_relative_to_the_config(tmp_path: Path) -> None:
    Image.new("RGB", (8, 8), "green").save(tmp_path / "avatar.png")
    settings = _parse(matrix(display_name='"Bot du CCT"', avatar='"avatar.png"'),
                      tmp_path).matrix
    assert settings.display_name == "Bot du CCT"
    assert settings.avatar == tmp_path / "avatar.png"


def test_bad_profile_values_are_problems_in_french(tmp_path: Path) -> None:
    (tmp_path / "avatar.png").write_text("pas une image")
    problems = _problems(matrix(display_name=f'"{"x" * 257}"', avatar='"avatar.png"'), tmp_path)
    assert problems == {"matrix.display_name": ["nom trop long (256 caractères au plus)"],
                        "matrix.avatar": ["« avatar.png » n'est pas une image PNG, JPEG, GIF "
                                          "ou WebP"]}
    assert "illisible" in _problems(matrix(avatar='"absent.png"'), tmp_path)["matrix.avatar"][0]
    Image.effect_noise((800, 800), 100).convert("RGB").save(tmp_path / "big.png")
    assert "trop lourde" in _problems(matrix(avatar='"big.png"'),
                                      tmp_path)["matrix.avatar"][0]


def test_example_config_documents_the_new_keys() -> None:
    example = tomllib.loads(EXAMPLE.read_text())["matrix"]
    assert example["undecryptable_notice_seconds"] == 60
    assert example["avatar"] == "" and example["display_name"]
