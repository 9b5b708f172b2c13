"""cmark-gfm's Markdown → HTML with GitHub's extensions, everything it allocates freed.

cmarkgfm's ``markdown_to_html_with_extensions`` never frees the document tree nor the rendered
HTML. Its Python functions do not reach ``cmark_node_free``, so this module calls the same C
library, the one cmarkgfm loaded (one registry of extensions), through ``ctypes``, and frees
the tree and the string once the HTML is copied."""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Sequence

from cmarkgfm import _cmark

_lib = ctypes.CDLL(_cmark.__file__)
_P = ctypes.c_void_p
# cmark-gfm switches process-wide special characters on and off for each parse (``~`` for
# strikethrough): two threads rendering at once would spoil each other's HTML.
_parsing = threading.Lock()


def _declare(name: str, result: type | None, *arguments: type) -> None:
    function = getattr(_lib, name)
    function.restype = result
    function.argtypes = list(arguments)


_declare("cmark_gfm_core_extensions_ensure_registered", None)
_declare("cmark_find_syntax_extension", _P, ctypes.c_char_p)
_declare("cmark_parser_new", _P, ctypes.c_int)
_declare("cmark_parser_attach_syntax_extension", ctypes.c_int, _P, _P)
_declare("cmark_parser_feed", None, _P, ctypes.c_char_p, ctypes.c_size_t)
_declare("cmark_parser_finish", _P, _P)
_declare("cmark_parser_get_syntax_extensions", _P, _P)
_declare("cmark_render_html", _P, _P, ctypes.c_int, _P)
_declare("cmark_node_free", None, _P)
_declare("cmark_parser_free", None, _P)
_declare("cmark_get_default_mem_allocator", _P)


class _Allocator(ctypes.Structure):
    """``cmark_mem``: the allocator that made the rendered string, which frees it."""

    _fields_ = [("calloc", _P), ("realloc", _P), ("free", ctypes.CFUNCTYPE(None, _P))]


_lib.cmark_gfm_core_extensions_ensure_registered()
_free = _Allocator.from_address(_lib.cmark_get_default_mem_allocator()).free


def _extension(name: str) -> int:
    found: int | None = _lib.cmark_find_syntax_extension(name.encode())
    if not found:
        raise ValueError(f"unknown cmark-gfm extension {name}")
    return found


def markdown_to_html(text: str, extensions: Sequence[str], options: int = 0) -> str:
    """``text`` rendered by cmark-gfm with ``extensions`` (``table``, ``strikethrough``…)
    and ``options`` (0: CommonMark's defaults, raw HTML left out)."""
    with _parsing:
        return _render(text, [_extension(name) for name in extensions], options)


def _render(text: str, attached: Sequence[int], options: int) -> str:
    parser = _lib.cmark_parser_new(options)
    root = None
    try:
        for extension in attached:
            _lib.cmark_parser_attach_syntax_extension(parser, extension)
        source = text.encode("utf-8")
        _lib.cmark_parser_feed(parser, source, len(source))
        root = _lib.cmark_parser_finish(parser)
        if not root:
            raise ValueError("cmark-gfm parsed no document")
        rendered = _lib.cmark_render_html(root, options,
                                          _lib.cmark_parser_get_syntax_extensions(parser))
        try:
            return ctypes.string_at(rendered).decode("utf-8")
        finally:
            _free(rendered)
    finally:
        if root:
            _lib.cmark_node_free(root)
        _lib.cmark_parser_free(parser)
