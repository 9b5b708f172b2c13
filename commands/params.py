"""A command's parameters and options, and how a raw argument becomes the handler's value.

A parameter's converter is either a plain one (``Converter``: ``convert(raw)``, no context:
text, numbers, words) or one that looks something up (``ContextConverter``:
``async convert(ctx, raw)``: a group, a rencontre…), which raises the French ``UserError`` of
what it did not find. A command's arguments are read first (plain conversions, missing
arguments, a lookup's ``read`` of its raw text), then the objects are looked up (``Later``), in
the order of the parameters then the options: a malformed argument is refused before anything
is looked up, as if the handler looked the objects up itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, cast

from commands.arguments import QUOTES, Converter, Integer, split_first, split_words
from commands.errors import BadArgument, MissingArgument
from commands.i18n import Translator
from commands.text import fold

if TYPE_CHECKING:
    from commands.context import Context

NUMBER = Integer()
# A check declared for a command or a whole family of commands: it reads the converted
# arguments (by parameter name) and raises a ``UserError`` to refuse, before the handler runs.
Check = Callable[["Context", Mapping[str, Any]], Awaitable[None]]


class ContextConverter(Protocol):
    """Turns a raw argument into an object, with the command's context (its database, its
    room, its sender); ``kind`` names it in usage messages."""

    @property
    def kind(self) -> str: ...

    async def convert(self, ctx: Context, raw: str) -> Any: ...


class Reads(Protocol):
    """A context converter that checks its raw text before anything is looked up (a number
    that is not one), raising ``BadArgument``."""

    def read(self, raw: str) -> None: ...


class Absent(Protocol):
    """A converter that gives a value when its (optional) argument is left out: the group of
    the room the command is said in, for instance."""

    async def absent(self, ctx: Context) -> Any: ...


AnyConverter = Converter | ContextConverter


def takes_context(converter: AnyConverter) -> TypeGuard[ContextConverter]:
    """Whether ``converter`` is a ``ContextConverter`` (its ``convert`` is a coroutine)."""
    return inspect.iscoroutinefunction(converter.convert)


async def value(converter: AnyConverter, ctx: Context, raw: str) -> Any:
    """What ``raw`` stands for, through either kind of converter."""
    if takes_context(converter):
        return await converter.convert(ctx, raw)
    return cast(Converter, converter).convert(raw)


class NumberRef:
    """A context converter of what is named by its number (``3``, ``n°3``, ``#3``): the number
    is read with the other arguments, then ``find`` looks the object up (raising the French
    ``UserError`` of what it did not find)."""

    kind: str = "number"

    def read(self, raw: str) -> None:
        NUMBER.convert(raw)

    async def convert(self, ctx: Context, raw: str) -> Any:
        return await self.find(ctx, NUMBER.convert(raw))

    async def find(self, ctx: Context, number: int) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Later:
    """An argument whose object is looked up once every argument is read: ``raw``, or the
    converter's ``absent`` value when it was left out (``None``)."""

    converter: ContextConverter
    raw: str | None

    async def find(self, ctx: Context) -> Any:
        if self.raw is None:
            return await cast(Absent, self.converter).absent(ctx)
        return await self.converter.convert(ctx, self.raw)


def read(converter: AnyConverter, raw: str) -> Any:
    """``raw`` converted, or, for a converter that looks something up, a ``Later`` (its raw
    text checked by its ``read`` if it has one)."""
    if not takes_context(converter):
        return cast(Converter, converter).convert(raw)
    check = getattr(converter, "read", None)
    if check is not None:
        check(raw)
    return Later(converter, raw)


@dataclass(frozen=True)
class Param:
    """A command parameter; a ``rest`` one takes the remainder of the line as one value, a
    ``lines`` one (the last) the lines after the command's first line, never read for options
    (a multi-line text sent in one message). ``shows``: the names displayed in the usage
    instead of ``name`` (a converter reading several words: ``("group", "text")``); a name
    ending in ``?`` is optional, one ending in ``…`` takes the rest of the line."""

    name: str
    converter: AnyConverter
    required: bool = True
    rest: bool = False
    shows: tuple[str, ...] = ()
    lines: bool = False

    def usage(self, t: Translator) -> str:
        """``<nom>``, ``[nom]``, ``<texte…>``; ``shows`` parts ending in ``?`` are optional."""
        parts = []
        names = self.shows or (self.name,)
        for index, name in enumerate(names):
            optional = not self.required or "?" in name
            label = t(f"param.{name.rstrip('?…')}")
            last = index == len(names) - 1
            if name.endswith("…") or ((self.rest or self.lines) and last
                                      and not name.endswith("?")):
                label += "…"
            parts.append(f"[{label}]" if optional else f"<{label}>")
        return " ".join(parts)

    @property
    def first_name(self) -> str:
        """The name of what is missing when nothing is given."""
        return (self.shows or (self.name,))[0].rstrip("?…")

    def read(self, raw: str) -> Any:
        """The handler's value for ``raw``, or the ``Later`` lookup giving it (``None``, or
        the converter's ``absent`` value, when an optional argument is left out)."""
        if raw:
            return read(self.converter, raw)
        if self.required:
            raise MissingArgument("error.missing_argument", name=self.first_name)
        if hasattr(self.converter, "absent"):
            return Later(cast(ContextConverter, self.converter), None)
        return None


@dataclass(frozen=True)
class Option:
    """A named option (``--theme énergie``): its names in each language, accents ignored. A
    ``flag`` takes no value (``--anonyme``): the handler receives whether it was given."""

    name: str
    converter: AnyConverter
    fr: tuple[str, ...]
    en: tuple[str, ...] = ()
    required: bool = False
    flag: bool = False

    def matches(self, word: str) -> bool:
        return fold(word) in folded_names(self.fr + self.en)

    def name_in(self, language: str) -> str:
        """``--theme``'s name in ``language`` (without the dashes)."""
        return (self.en if language == "en" and self.en else self.fr)[0]

    def usage(self, t: Translator) -> str:
        if self.flag:
            return f"[--{self.name_in(t.language)}]"
        text = f"--{self.name_in(t.language)} <{t(f'param.{self.name}')}>"
        return text if self.required else f"[{text}]"


# ``--page n``: declared by every command whose reply is a list that grows with the club; its
# handler receives a ``PageRequest`` (``commands.paging`` cuts the reply into pages).
PAGE = Option("page", Integer(), fr=("page",))


def next_word(text: str) -> tuple[str, str]:
    """The first argument (quoted parts kept together) and the rest of the text."""
    if not text:
        return "", ""
    if text[0] in QUOTES:
        words = split_words(text)
        first = words[0] if words else ""
        end = text.find(QUOTES[text[0]], 1)
        return first, (text[end + 1 :].strip() if end >= 0 else "")
    return split_first(text)


@cache
def folded_names(names: tuple[str, ...]) -> frozenset[str]:
    """Declared names as matched: accents and case ignored (computed once per command)."""
    return frozenset(fold(name) for name in names)


def parse_options(options: Sequence[Option], found: list[tuple[str, str]]) -> dict[str, Any]:
    """The handler's values of a command's ``options`` from the ``--name value`` pairs
    ``found`` in its line: ``False`` or ``None`` for those not given (or the ``Later`` lookup
    of their ``absent`` value); an unknown, repeated or empty option, or a missing required
    one, refused."""
    values: dict[str, Any] = {option.name: False if option.flag else None for option in options}
    seen: set[str] = set()
    for name, raw in found:
        option = next((o for o in options if o.matches(name)), None)
        if option is None:
            listed = ", ".join(f"--{o.fr[0]}" for o in options)
            raise BadArgument("error.unknown_option", name=name[:40], options=listed)
        if option.name in seen:
            raise BadArgument("error.option_twice", name=name[:40])
        if option.flag and raw:
            raise BadArgument("error.flag_with_value", name=name[:40], extra=raw[:40])
        if not option.flag and not raw:
            raise BadArgument("error.option_without_value", name=name[:40])
        seen.add(option.name)
        values[option.name] = True if option.flag else read(option.converter, raw)
    for option in options:
        if option.required and option.name not in seen:
            raise MissingArgument("error.missing_option", name=option.name, option=option.fr[0])
        if option.name not in seen and hasattr(option.converter, "absent"):
            values[option.name] = Later(cast(ContextConverter, option.converter), None)
    return values
