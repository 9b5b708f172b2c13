"""One declaration per command: names (fr/en), typed parameters, role, section, help.

Help and usage texts are generated from these declarations and the catalogs
(``cmd.<key>.summary``, ``cmd.<key>.help``, ``param.<name>``), so they cannot drift apart.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from commands.arguments import Converter, Integer, split_first, split_options, split_words
from commands.errors import BadArgument, MissingArgument, TooManyArguments, UnknownCommand
from commands.i18n import Translator
from commands.text import fold

if TYPE_CHECKING:
    from commands.context import Reply, RoomOutcome
    from commands.effects import Effect

Handler = Callable[..., Awaitable["Reply"]]
# What becomes of a room the bot opened (``commands.effects.Outcome``): its effects
OutcomeHandler = Callable[["RoomOutcome"], Awaitable[Sequence["Effect"]]]

SECTIONS: tuple[str, ...] = ("meta", "projects", "meetings", "polls", "agenda", "reminders",
                             "reports", "privacy")


class Role(IntEnum):
    """What a person may do; higher includes lower. A ``VISITOR`` is not a club member (in none
    of the club's rooms nor of the groups' rooms): only commands declared ``VISITOR`` are open
    to them. ``REFERENT`` marks commands whose handler checks the group's referents itself:
    every member sees them, the handler decides."""

    VISITOR = 0
    PARTICIPANT = 1
    REFERENT = 2
    COORDINATOR = 3


@dataclass(frozen=True)
class Param:
    """A command parameter; a ``rest`` one takes the remainder of the line as one value."""

    name: str
    converter: Converter
    required: bool = True
    rest: bool = False
    shows: tuple[str, ...] = ()  # names displayed in the usage instead of ``name``

    def usage(self, t: Translator) -> str:
        """``<nom>``, ``[nom]``, ``<texte…>``; ``shows`` parts ending in ``?`` are optional."""
        parts = []
        for index, name in enumerate(self.shows or (self.name,)):
            optional = not self.required or name.endswith("?")
            label = t(f"param.{name.rstrip('?')}")
            if self.rest and index == len(self.shows or (self.name,)) - 1 and not name.endswith("?"):
                label += "…"
            parts.append(f"[{label}]" if optional else f"<{label}>")
        return " ".join(parts)

    @property
    def first_name(self) -> str:
        """The name of what is missing when nothing is given."""
        return (self.shows or (self.name,))[0].rstrip("?")


@dataclass(frozen=True)
class Option:
    """A named option (``--theme énergie``): its names in each language, accents ignored."""

    name: str
    converter: Converter
    fr: tuple[str, ...]
    en: tuple[str, ...] = ()
    required: bool = False

    def matches(self, word: str) -> bool:
        return fold(word) in folded_names(self.fr + self.en)

    def name_in(self, language: str) -> str:
        """``--theme``'s name in ``language`` (without the dashes)."""
        return (self.en if language == "en" and self.en else self.fr)[0]

    def usage(self, t: Translator) -> str:
        text = f"--{self.name_in(t.language)} <{t(f'param.{self.name}')}>"
        return text if self.required else f"[{text}]"


# ``--page n``: declared by every command whose reply is a list that grows with the club; its
# handler receives a ``PageRequest`` (``commands.paging`` cuts the reply into pages).
PAGE = Option("page", Integer(), fr=("page",))


@dataclass(frozen=True)
class PageRequest:
    """The page of its reply a paginated command was asked for (the first one by default)."""

    number: int
    command: Command


@dataclass
class Command:
    """A command or subcommand, declared once."""

    key: str
    fr: tuple[str, ...]
    en: tuple[str, ...]
    section: str
    handler: Handler | None = None
    params: tuple[Param, ...] = ()
    role: Role = Role.PARTICIPANT
    subcommands: list[Command] = field(default_factory=list)
    parent: Command | None = None
    options: tuple[Option, ...] = ()
    # Its reply names other people (members, authors, voters…): it is given only where every
    # reader is a club member (a club room, a group's room, a direct message), never elsewhere.
    names_people: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return self.fr + self.en

    def name_in(self, language: str) -> str:
        """The command's main name in ``language``."""
        return (self.en if language == "en" and self.en else self.fr)[0]

    def path_in(self, language: str) -> str:
        """``projet rejoindre``: the parent's name, then this one's."""
        own = self.name_in(language)
        return f"{self.parent.path_in(language)} {own}" if self.parent else own

    def matches(self, word: str) -> bool:
        return fold(word) in folded_names(self.names)

    def visible_to(self, role: Role) -> bool:
        """Coordinators' commands are hidden from others, members' ones from visitors;
        referents' ones are shown to every member."""
        if self.role == Role.REFERENT:
            return role >= Role.PARTICIPANT
        return role >= self.role

    def subcommand(self, key: str, *, fr: Sequence[str], en: Sequence[str] = (),
                   params: Sequence[Param] = (), role: Role | None = None,
                   options: Sequence[Option] = (),
                   names_people: bool = False) -> Callable[[Handler], Handler]:
        """Declares a subcommand of this command (decorator)."""

        def register(handler: Handler) -> Handler:
            child = Command(f"{self.key}.{key}", tuple(fr), tuple(en), self.section, handler,
                            tuple(params), self.role if role is None else role, parent=self,
                            options=tuple(options), names_people=names_people)
            self.subcommands.append(child)
            return handler

        return register

    def usage(self, t: Translator, prefix: str) -> str:
        """``!aide [commande]``: the command line to type, parameters named in ``t``'s language."""
        parts = [f"{prefix}{self.path_in(t.language)}"]
        if self.subcommands and not self.handler:
            parts.append("<" + "|".join(c.name_in(t.language) for c in self.subcommands) + ">")
        parts += [param.usage(t) for param in self.params]
        parts += [option.usage(t) for option in self.options]
        return " ".join(parts)

    def parse(self, text: str) -> dict[str, Any]:
        """Converts the argument text into keyword arguments for the handler."""
        values: dict[str, Any] = {}
        remaining = text.strip()
        if self.options:
            remaining, found = split_options(remaining)
            values.update(self._parse_options(found))
        for param in self.params:
            if param.rest:
                raw = remaining
                remaining = ""
            else:
                raw, remaining = _next_word(remaining)
            if not raw:
                if param.required:
                    raise MissingArgument("error.missing_argument", name=param.first_name)
                values[param.name] = None
                continue
            values[param.name] = param.converter.convert(raw)
        if remaining:
            raise TooManyArguments("error.too_many_arguments", extra=remaining[:40])
        if PAGE in self.options:
            values[PAGE.name] = PageRequest(values[PAGE.name] or 1, self)
        return values

    def _parse_options(self, found: list[tuple[str, str]]) -> dict[str, Any]:
        values: dict[str, Any] = {option.name: None for option in self.options}
        seen: set[str] = set()
        for name, raw in found:
            option = next((o for o in self.options if o.matches(name)), None)
            if option is None:
                listed = ", ".join(f"--{o.fr[0]}" for o in self.options)
                raise BadArgument("error.unknown_option", name=name[:40], options=listed)
            if option.name in seen:
                raise BadArgument("error.option_twice", name=name[:40])
            if not raw:
                raise BadArgument("error.option_without_value", name=name[:40])
            seen.add(option.name)
            values[option.name] = option.converter.convert(raw)
        for option in self.options:
            if option.required and option.name not in seen:
                raise MissingArgument("error.missing_option", name=option.name,
                                      option=option.fr[0])
        return values


def _next_word(text: str) -> tuple[str, str]:
    """The first argument (quoted parts kept together) and the rest of the text."""
    if not text:
        return "", ""
    if text[0] in "\"«“":
        words = split_words(text)
        first = words[0] if words else ""
        closing = {'"': '"', "«": "»", "“": "”"}[text[0]]
        end = text.find(closing, 1)
        return first, (text[end + 1 :].strip() if end >= 0 else "")
    return split_first(text)


@dataclass
class Resolved:
    """A command found in a line, with the text of its arguments."""

    command: Command
    arguments: str


class Registry:
    """All the commands of the bot, looked up by any of their fr/en names."""

    def __init__(self) -> None:
        self._commands: list[Command] = []
        self.outcomes: dict[str, OutcomeHandler] = {}

    def outcome(self, kind: str) -> Callable[[OutcomeHandler], OutcomeHandler]:
        """Declares the handler of the outcomes of ``kind`` (decorator): what is recorded and
        told once a room the bot opens exists, or was refused."""

        def register(handler: OutcomeHandler) -> OutcomeHandler:
            if kind in self.outcomes:
                raise ValueError(f"outcome {kind!r} declared twice")
            self.outcomes[kind] = handler
            return handler

        return register

    def command(self, key: str, *, fr: Sequence[str], en: Sequence[str] = (), section: str,
                params: Sequence[Param] = (), role: Role = Role.PARTICIPANT,
                options: Sequence[Option] = (),
                names_people: bool = False) -> Callable[[Handler], Command]:
        """Declares a top-level command (decorator); returns the ``Command`` for subcommands."""

        def register(handler: Handler) -> Command:
            return self.add(Command(key, tuple(fr), tuple(en), section, handler, tuple(params),
                                    role, options=tuple(options), names_people=names_people))

        return register

    def group(self, key: str, *, fr: Sequence[str], en: Sequence[str] = (), section: str,
              role: Role = Role.PARTICIPANT) -> Command:
        """Declares a command made only of subcommands (``!projet …``)."""
        return self.add(Command(key, tuple(fr), tuple(en), section, None, (), role))

    def add(self, command: Command) -> Command:
        if command.section not in SECTIONS:
            raise ValueError(f"unknown section {command.section!r}")
        for name in command.names:
            if self.find(name):
                raise ValueError(f"command name {name!r} declared twice")
        self._commands.append(command)
        return command

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands)

    def find(self, name: str) -> Command | None:
        return named(self._commands, name)

    def by_key(self, key: str) -> Command | None:
        """A command or subcommand by its key (``projet.rejoindre``)."""
        for command in self.walk():
            if command.key == key:
                return command
        return None

    def walk(self) -> Iterator[Command]:
        for command in self._commands:
            yield command
            yield from command.subcommands

    def resolve(self, line: str) -> Resolved:
        """Finds the command (and subcommand) at the start of ``line`` (prefix already removed)."""
        name, rest = split_first(line)
        command = self.find(name)
        if command is None:
            raise UnknownCommand(name[:40], self.suggest(name))
        if command.subcommands:
            sub_name, sub_rest = split_first(rest)
            sub = named(command.subcommands, sub_name)
            if sub is not None:
                return Resolved(sub, sub_rest)
        return Resolved(command, rest)

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """The closest command names to a mistyped one."""
        names = {folded: n for c in self._commands for n in c.names
                 for folded in folded_names((n,))}
        # a command name is short: the first characters are enough, whatever was typed
        close = difflib.get_close_matches(fold(name[:40]), list(names), n=limit, cutoff=0.6)
        return [names[n] for n in close]

    def visible_to(self, role: Role) -> list[Command]:
        return [c for c in self._commands if c.visible_to(role)]


@cache
def folded_names(names: tuple[str, ...]) -> frozenset[str]:
    """Declared names as matched: accents and case ignored (computed once per command)."""
    return frozenset(fold(name) for name in names)


def named(commands: Iterable[Command], word: str) -> Command | None:
    """The command one of whose names is ``word`` (accents and case ignored)."""
    folded = fold(word)
    return next((c for c in commands if folded in folded_names(c.names)), None)


def help_index(registry: Registry, role: Role, t: Translator, prefix: str) -> str:
    """``!aide``: the commands the asker may run, grouped by section."""
    lines = [t("help.title"), ""]
    for section in SECTIONS:
        commands = [c for c in registry.visible_to(role) if c.section == section]
        if not commands:
            continue
        lines.append(f"**{t(f'section.{section}')}**")
        for command in commands:
            lines.append(f"- `{prefix}{command.name_in(t.language)}` — {t(f'cmd.{command.key}.summary')}")
        lines.append("")
    lines.append(t("help.footer", prefix=prefix, example=_help_name(registry, t)))
    return "\n".join(lines)


def _help_name(registry: Registry, t: Translator) -> str:
    found = registry.find("aide")
    return found.name_in(t.language) if found else "aide"


def help_detail(command: Command, role: Role, t: Translator, prefix: str) -> str:
    """``!aide projet``: one command in full, with its usage and subcommands."""
    lines = [f"**{prefix}{command.path_in(t.language)}** — {t(f'cmd.{command.key}.summary')}", ""]
    if command.handler:
        lines.append(f"`{command.usage(t, prefix)}`")
    if t.has(f"cmd.{command.key}.help"):
        lines += ["", t(f"cmd.{command.key}.help")]
    subs = [c for c in command.subcommands if c.visible_to(role)]
    if subs:
        lines += ["", t("help.subcommands")]
        lines += [f"- `{c.usage(t, prefix)}` — {t(f'cmd.{c.key}.summary')}" for c in subs]
    other = command.en if t.language == "fr" else command.fr
    if other:
        lines += ["", t("help.aliases", names=", ".join(f"`{prefix}{n}`" for n in other))]
    if command.role != Role.PARTICIPANT:
        lines += ["", t(f"help.role_{command.role.name.lower()}")]
    return "\n".join(lines)
