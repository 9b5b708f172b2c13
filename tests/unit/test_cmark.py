"""bot.cmark: cmark-gfm's HTML, as cmarkgfm renders it, with the document tree and the string
freed (cmarkgfm's own wrapper keeps both: ~100 KiB a message in the bot's memory for ever)."""

from __future__ import annotations

import ctypes
import ctypes.util

import cmarkgfm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import cmark
from bot.render import EXTENSIONS, markdown_to_html

SAMPLES = [
    "",
    "**Groupes-projets** (2)\n\n| n° | Nom | Membres |\n|---|---|---|\n| 1 | *Vélo* | 3 |\n",
    "~~barré~~ et `code`\n\n- un\n- deux\n\n> citation\n\n# Titre\n\n---\n",
    "un <b>gras</b> brut <script>alert(1)</script>",
    "[cliquez](javascript:alert(1)) [site](https://example.org)",
    "é ü 🌱 \u200b\u202e texte\n\n1. premier\n2. second",
    "a\x00b ~~c~~",
]


@pytest.mark.parametrize("markdown", SAMPLES)
def test_renders_as_cmarkgfm(markdown: str) -> None:
    expected = cmarkgfm.markdown_to_html_with_extensions(markdown, extensions=EXTENSIONS)
    assert cmark.markdown_to_html(markdown, EXTENSIONS) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300))
def test_any_text_renders_as_cmarkgfm(markdown: str) -> None:
    expected = cmarkgfm.markdown_to_html_with_extensions(markdown, extensions=EXTENSIONS)
    assert cmark.markdown_to_html(markdown, EXTENSIONS) == expected


def test_threads_rendering_at_once_get_the_same_html() -> None:
    """cmark-gfm switches process-wide special characters for each parse (``~``): renderings
    from several threads at once are serialised, each gets the HTML it would get alone."""
    import threading

    texts = ["~~barré~~ et **gras** " * 20, "| a | b |\n|---|---|\n| ~~1~~ | 2 |\n" * 5,
             "a\x00b ~~c~~"]
    alone = [cmark.markdown_to_html(text, EXTENSIONS) for text in texts]
    wrong: list[str] = []

    def render() -> None:
        for _ in range(200):
            for text, expected in zip(texts, alone, strict=True):
                if cmark.markdown_to_html(text, EXTENSIONS) != expected:
                    wrong.append(text)

    threads = [threading.Thread(target=render) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_an_unknown_extension_is_refused() -> None:
    with pytest.raises(ValueError, match="nope"):
        cmark.markdown_to_html("x", ["table", "nope"])


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def allocated_bytes() -> int:
    """What glibc's arenas hold allocated now (the C library's mallocs included)."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is None or not hasattr(libc, "mallinfo2"):
        pytest.fail("this test needs glibc's mallinfo2 (glibc ≥ 2.33)")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


def test_rendering_keeps_no_memory() -> None:
    """2,000 renderings of a 60-row table: cmarkgfm's wrapper keeps about 240 MB of them;
    freed, glibc holds at most a few MB more after (the interpreter's own caches)."""
    table = "| n° | groupe |\n|---|---|\n" + "".join(
        f"| {i} | Atelier vélo n°{i} — *référent* |\n" for i in range(60))
    markdown_to_html(table)
    before = allocated_bytes()
    for _ in range(2000):
        markdown_to_html(table)
    assert allocated_bytes() - before < 16 * 1024 * 1024
