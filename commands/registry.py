"""One declaration per command: names (fr/en), typed parameters, role, checks, section, help.

Commands are declared at module level by their capability (``command``, ``group``, then
``@group.subcommand`` or ``@family.subcommand`` on plain ``async def`` handlers); a
``Registry`` lists the commands of the bot (``commands.capability.build``), and the same
declarations may be listed by several registries. Help and usage texts are generated from the
declarations and the catalogs (``cmd.<key>.summary``, ``cmd.<key>.help``, ``param.<name>``),
so they cannot drift apart.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from commands.arguments import split_first, split_options
from commands.errors import TooManyArguments, UnknownCommand
from commands.i18n import Translator
from commands.params import (
    PAGE,
    Check,
    Later,
    Option,
    Param,
    folded_names,
    next_word,
    parse_options,
)
from commands.roles import Asker, Role, asker
from commands.text import fold

if TYPE_CHECKING:
    from commands.context import Context, RoomOutcome
    from commands.effects import Effect, Reply
    from commands.events import Consumer, PollAnswers, ReadAnswer
    from commands.exports import Export
    from commands.jobs import Answered, AtStart, Job

SECTIONS: tuple[str, ...] = ("meta", "projects", "meetings", "polls", "agenda", "reminders",
                             "reports", "privacy")

Handler = Callable[..., Awaitable["Reply"]]
# What becomes of a room the bot opened (``commands.effects.Outcome``): its effects
OutcomeHandler = Callable[["RoomOutcome"], Awaitable[Sequence["Effect"]]]


@dataclass(frozen=True)
class PageRequest:
    """The page of its reply a paginated command was asked for (the first one by default)."""

    number: int
    command: Command


@dataclass(eq=False)
class Command:
    """A command or subcommand, declared once. Calling it calls its handler."""

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
    checks: tuple[Check, ...] = ()  # run on the converted arguments, before the handler
    # A ``REFERENT`` command an event's organiser may run too (``!aide`` shows it to them).
    organisers: bool = False
    # Its handler only reads but takes seconds (``!bilan`` renders files): run apart from its
    # sync batch, its reply made in a read-only transaction, queued in a short one after
    # (``bot.dispatcher``; a top-level command's flag, read before the line is parsed).
    slow: bool = False

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(f"unknown section {self.section!r}")

    async def __call__(self, ctx: Context, **arguments: Any) -> Reply:
        assert self.handler is not None, f"{self.key} has only subcommands"
        return await self.handler(ctx, **arguments)

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

    def visible_to(self, who: Asker | Role) -> bool:
        """Whether ``!aide`` lists it for ``who``: coordinators' commands for coordinators,
        members' ones for members, referents' ones for the referents of a group (and, for
        ``organisers`` ones, an event's organiser)."""
        return asker(who).may(self.role, organisers=self.organisers)

    def find(self, word: str) -> Command | None:
        """The subcommand one of whose names is ``word``."""
        return named(self.subcommands, word)

    def takes_option(self, name: str) -> bool:
        """Whether this command, or one of its subcommands, declares the option ``name``."""
        return any(option.name == name for each in (self, *self.subcommands)
                   for option in each.options)

    def takes_param(self, name: str) -> bool:
        """Whether this command, or one of its subcommands, declares the parameter ``name``."""
        return any(param.name == name for each in (self, *self.subcommands)
                   for param in each.params)

    def detail(self, who: Asker | Role, t: Translator, prefix: str) -> str:
        """``!aide <commande>``'s text (``help_detail``)."""
        return help_detail(self, who, t, prefix)

    def subcommand(self, key: str, *, fr: Sequence[str], en: Sequence[str] = (),
                   params: Sequence[Param] = (), role: Role | None = None,
                   options: Sequence[Option] = (), names_people: bool = False,
                   checks: Sequence[Check] = (),
                   organisers: bool = False) -> Callable[[Handler], Handler]:
        """Declares a subcommand of this command (decorator); the handler stays a plain
        function."""

        def register(handler: Handler) -> Handler:
            if any(named(self.subcommands, name) for name in (*fr, *en)):
                raise ValueError(f"subcommand {key!r} of {self.key!r} declared twice")
            child = Command(f"{self.key}.{key}", tuple(fr), tuple(en), self.section, handler,
                            tuple(params), self.role if role is None else role, parent=self,
                            options=tuple(options), names_people=names_people,
                            checks=tuple(checks), organisers=organisers)
            self.subcommands.append(child)
            return handler

        return register

    def family(self, *, role: Role | None = None, checks: Sequence[Check] = (),
               organisers: bool = False) -> Family:
        """Subcommands that share a role and checks (``rencontre.family(role=COORDINATOR)``)."""
        return Family(self, self.role if role is None else role, tuple(checks), organisers)

    def usage(self, t: Translator, prefix: str) -> str:
        """``!aide [commande]``: the command line to type, parameters named in ``t``'s language."""
        parts = [f"{prefix}{self.path_in(t.language)}"]
        if self.subcommands and not self.handler:
            parts.append("<" + "|".join(c.name_in(t.language) for c in self.subcommands) + ">")
        parts += [param.usage(t) for param in self.params if not param.lines]
        parts += [option.usage(t) for option in self.options]
        parts += ["↵ " + param.usage(t) for param in self.params if param.lines]
        return " ".join(parts)

    async def parse(self, ctx: Context, text: str) -> dict[str, Any]:
        """Converts the argument text into keyword arguments for the handler: every argument
        read first, then the objects they name looked up with ``ctx`` (``params.Later``)."""
        values: dict[str, Any] = {}
        remaining, body = text.strip(), ""
        if any(param.lines for param in self.params):
            remaining, _, body = remaining.partition("\n")
        if self.options:
            remaining, found = split_options(remaining)
            values.update(parse_options(self.options, found))
        arguments: dict[str, Any] = {}
        for param in self.params:
            if param.lines:
                raw = body
            elif param.rest:
                raw, remaining = remaining, ""
            else:
                raw, remaining = next_word(remaining)
            arguments[param.name] = param.read(raw)
        if remaining:
            raise TooManyArguments("error.too_many_arguments", extra=remaining[:40])
        values = arguments | values
        for name, each in values.items():
            if isinstance(each, Later):
                values[name] = await each.find(ctx)
        if PAGE in self.options:
            values[PAGE.name] = PageRequest(values[PAGE.name] or 1, self)
        return values


@dataclass(frozen=True)
class Family:
    """Subcommands of ``parent`` declared together: each has the family's role, and its checks
    run before the handler (the group's editors only, the rencontre still open…)."""

    parent: Command
    role: Role
    checks: tuple[Check, ...] = ()
    organisers: bool = False

    def subcommand(self, key: str, *, fr: Sequence[str], en: Sequence[str] = (),
                   params: Sequence[Param] = (), options: Sequence[Option] = (),
                   names_people: bool = False,
                   checks: Sequence[Check] = ()) -> Callable[[Handler], Handler]:
        """Declares a subcommand of the family (decorator); ``checks`` are added to the
        family's."""
        return self.parent.subcommand(key, fr=fr, en=en, params=params, role=self.role,
                                      options=options, names_people=names_people,
                                      checks=self.checks + tuple(checks),
                                      organisers=self.organisers)


def command(key: str, *, fr: Sequence[str], en: Sequence[str] = (), section: str,
            params: Sequence[Param] = (), role: Role = Role.PARTICIPANT,
            options: Sequence[Option] = (), names_people: bool = False,
            checks: Sequence[Check] = (), slow: bool = False) -> Callable[[Handler], Command]:
    """Declares a top-level command (decorator): the ``Command``, which calls the handler."""

    def declare(handler: Handler) -> Command:
        return Command(key, tuple(fr), tuple(en), section, handler, tuple(params), role,
                       options=tuple(options), names_people=names_people, checks=tuple(checks),
                       slow=slow)

    return declare


def group(key: str, *, fr: Sequence[str], en: Sequence[str] = (), section: str,
          role: Role = Role.PARTICIPANT) -> Command:
    """Declares a command made only of subcommands (``!projet …``)."""
    return Command(key, tuple(fr), tuple(en), section, None, (), role)


@dataclass
class Resolved:
    """A command found in a line, with the text of its arguments."""

    command: Command
    arguments: str


class Registry:
    """All the commands of the bot, looked up by any of their fr/en names, and what else the
    capabilities react to (rooms opened, reactions and redactions, answers to native polls,
    other capabilities' announcements): built by ``commands.capability.build``."""

    def __init__(self) -> None:
        self._commands: list[Command] = []
        self.outcomes: dict[str, OutcomeHandler] = {}
        self.consumers: list[Consumer] = []
        self.poll_answers: list[PollAnswers] = []
        self.answer_events: dict[str, ReadAnswer] = {}  # event type → how it is read
        self.listeners: dict[str, list[Callable[..., Awaitable[Any]]]] = {}
        self.jobs: list[Job] = []  # scheduled work (``commands.jobs``)
        self.at_start: list[AtStart] = []
        self.answered: list[Answered] = []
        self.exports: list[Export] = []

    def outcome(self, kind: str) -> Callable[[OutcomeHandler], OutcomeHandler]:
        """Declares the handler of the outcomes of ``kind`` (decorator): what is recorded and
        told once a room the bot opens exists, or was refused."""

        def register(handler: OutcomeHandler) -> OutcomeHandler:
            if kind in self.outcomes:
                raise ValueError(f"outcome {kind!r} declared twice")
            self.outcomes[kind] = handler
            return handler

        return register

    def add(self, command: Command) -> Command:
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

    def visible_to(self, who: Asker | Role) -> list[Command]:
        return [c for c in self._commands if c.visible_to(who)]

    def index(self, who: Asker | Role, t: Translator, prefix: str) -> str:
        """``!aide``'s text (``help_index``)."""
        return help_index(self, who, t, prefix)


def named(commands: Iterable[Command], word: str) -> Command | None:
    """The command one of whose names is ``word`` (accents and case ignored)."""
    folded = fold(word)
    return next((c for c in commands if folded in folded_names(c.names)), None)


def help_index(registry: Registry, who: Asker | Role, t: Translator, prefix: str) -> str:
    """``!aide``: the commands the asker may run, grouped by section; a line if others are
    kept for the referents or the coordination."""
    lines = [t("help.title"), ""]
    for section in SECTIONS:
        commands = [c for c in registry.visible_to(who) if c.section == section]
        if not commands:
            continue
        lines.append(f"**{t(f'section.{section}')}**")
        for command in commands:
            lines.append(f"- `{prefix}{command.name_in(t.language)}` — {t(f'cmd.{command.key}.summary')}")
        lines.append("")
    help_name = t("help.command_name")
    whom = _kept_for(registry.walk(), who, t)
    if whom:
        lines += [t("help.more", whom=whom, prefix=prefix, help=help_name), ""]
    lines.append(t("help.footer", prefix=prefix, example=help_name))
    return "\n".join(lines)


def help_detail(command: Command, who: Asker | Role, t: Translator, prefix: str) -> str:
    """``!aide projet``: one command in full, with its usage, the subcommands the asker may
    run and a line naming the others; who may run it, unless every member may."""
    title = f"**{prefix}{command.path_in(t.language)}** — {t(f'cmd.{command.key}.summary')}"
    lines = [title, ""]
    if command.handler:
        lines.append(f"`{command.usage(t, prefix)}`")
    if t.has(f"cmd.{command.key}.help"):
        lines += ["", t(f"cmd.{command.key}.help")]
    subs = [c for c in command.subcommands if c.visible_to(who)]
    if subs:
        lines += ["", t("help.subcommands")]
        lines += [f"- `{c.usage(t, prefix)}` — {t(f'cmd.{c.key}.summary')}" for c in subs]
    kept = [c for c in command.subcommands if not c.visible_to(who)]
    whom = _kept_for(kept, who, t)
    if whom:
        names = ", ".join(f"`{c.name_in(t.language)}`" for c in kept)
        example = f"{prefix}{t('help.command_name')} {command.path_in(t.language)} " \
                  f"{kept[0].name_in(t.language)}"
        lines += ["", t("help.more_subcommands", whom=whom, names=names, example=example)]
    other = command.en if t.language == "fr" else command.fr
    if other:
        lines += ["", t("help.aliases", names=", ".join(f"`{prefix}{n}`" for n in other))]
    if command.role != Role.PARTICIPANT:
        lines += ["", t(f"help.role_{_role_name(command)}")]
    return "\n".join(lines)


def _role_name(command: Command) -> str:
    if command.role == Role.REFERENT and command.organisers:
        return "organiser"
    return command.role.name.lower()


def _kept_for(commands: Iterable[Command], who: Asker | Role, t: Translator) -> str:
    """Whom the commands hidden from a member are for (« aux référents… »), or nothing (none
    hidden, or a visitor: told to join the club instead)."""
    reader = asker(who)
    if reader.role == Role.VISITOR:
        return ""
    roles = {c.role for c in commands if not c.visible_to(reader)}
    if Role.REFERENT in roles:
        return t("help.whom_referents")
    return t("help.whom_coordination") if Role.COORDINATOR in roles else ""
