"""Names of groups and initiatives: what is accepted, their slugs, and finding a group by name
(``GroupRef`` and ``GroupThen``, the converters of the commands naming a group)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commands.arguments import QUOTES, Converter, Text, split_first
from commands.errors import BadArgument, MissingArgument, NotFound, UserError
from commands.lookalikes import find_lookalike, has_hidden_characters, word_mixing_scripts
from commands.params import next_word
from commands.text import escape_markdown, fold

if TYPE_CHECKING:
    from commands.context import Context
    from storage.models import ProjectGroup
    from storage.repositories import Repositories

NAME_MIN, NAME_MAX = 3, 80
SLUG_MAX = 40
# Markdown and HTML markup: a name is plain text.
_MARKUP = re.compile(r"[<>*_`\[\]|~\\{}]")
_NUMBER = re.compile(r"^(?:#|n°|N°)?(\d{1,9})$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_EXTRA_WORDS = 6
_AFTER_NAME = ",;:.!?…"  # what may end a group's name written before a text
GROUP_REF = Text(max_length=200)  # what may name a group


class Ambiguous(UserError):
    """Several groups match a partial name: the reply lists them."""

    key = "projects.ambiguous"


def clean_name(raw: str) -> str:
    """A group or initiative name, checked: plain text of 3 to 80 characters, on one line,
    nothing hidden in it and no word mixing scripts (``commands.lookalikes``)."""
    name = " ".join(raw.split())
    if not name:
        raise BadArgument("projects.name_empty")
    if len(name) > NAME_MAX or len(name) < NAME_MIN:
        raise BadArgument("projects.name_length", minimum=NAME_MIN, maximum=NAME_MAX,
                          length=len(name))
    if _MARKUP.search(name):
        raise BadArgument("projects.name_markup")
    if has_hidden_characters(name):
        raise BadArgument("projects.name_invisible")
    mixed = word_mixing_scripts(name)
    if mixed is not None:
        raise BadArgument("projects.name_mixed_scripts", word=mixed)
    if not any(c.isalnum() for c in name):
        raise BadArgument("projects.name_empty")
    return name


async def refuse_group_lookalike(repos: Repositories, name: str, *,
                                 besides: int | None = None) -> None:
    """Refuses ``name`` when it looks like another group's (``commands.lookalikes``)."""
    others = [(group_id, other) for group_id, other in await repos.groups.names()
              if group_id != besides]
    twin = find_lookalike(name, others)
    if twin is not None:
        raise UserError("projects.name_lookalike", name=name, number=twin[0], other=twin[1])


def name_key(name: str) -> str:
    """The form two names are compared in (duplicates): folded, single spaces."""
    return " ".join(fold(name).split())


def slugify(name: str) -> str:
    """``Atelier vélo à Guillestre`` → ``atelier-velo-a-guillestre`` (at most 40 characters)."""
    slug = _NOT_SLUG.sub("-", fold(name)).strip("-")
    if len(slug) > SLUG_MAX:
        slug = slug[:SLUG_MAX].rsplit("-", 1)[0] if "-" in slug[:SLUG_MAX] else slug[:SLUG_MAX]
    return slug or "groupe"


def unique_slug(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… the first one not taken."""
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def group_label(group: ProjectGroup) -> str:
    """``n°3 Atelier vélo`` (Markdown-safe)."""
    return f"n°{group.id} {escape_markdown(group.name)}"


@dataclass
class Found:
    """A group named in a command, and the text that followed its name."""

    group: ProjectGroup
    rest: str


async def find_group(repos: Repositories, ref: str) -> ProjectGroup:
    """The group ``ref`` names: its number, slug, name, or an unambiguous part of its name."""
    exact = await _exact(repos, ref)
    if exact is not None:
        return exact
    if _NUMBER.match(ref.strip()):
        raise NotFound("projects.no_such_number", number=ref.strip().lstrip("#nN°"))
    words = fold(ref).split()
    if not words:
        raise NotFound("projects.not_found", name=ref[:60])
    matches = _prefer_active(await repos.groups.search(words))
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound("projects.not_found", name=ref[:60])
    raise Ambiguous("projects.ambiguous", name=ref[:60], choices=_choices(matches[:8]))


def _choices(groups: Iterable[ProjectGroup]) -> str:
    return ", ".join(f"{group_label(g)} (`{g.slug}`)" for g in groups)


def _within_a_name(first: str, words: Sequence[str]) -> list[str]:
    """The words after ``first`` that a group's name could still take (``NAME_MAX``
    characters in all): every whole name that opens a command is compared."""
    taken, length = [], len(first)
    for word in words:
        length += 1 + len(word)
        if length > NAME_MAX + len(_AFTER_NAME):
            break
        taken.append(word)
    return taken


async def find_group_then_text(repos: Repositories, first: str, rest: str,
                               quoted: bool = False) -> Found:
    """``!projet avancement atelier vélo 12 vélos réparés``: the group's name may take several
    words. A quoted name or a number names its group alone; otherwise the groups whose whole
    name (or identifier) opens the command: one wins, two or more (« Atelier » and « Atelier
    vélo ») are ambiguous; none: the longest run of words that names exactly one group."""
    ref = first.strip()
    if quoted or _NUMBER.match(ref):
        return Found(await find_group(repos, first), _after_name(rest, 0))
    whole = await _whole_names(repos, ref, _within_a_name(ref, rest.split()))
    if len(whole) > 1:
        raise Ambiguous("projects.ambiguous_names", text=f"{ref} {rest}".strip()[:60],
                        choices=_choices(whole))
    words = rest.split()[:MAX_EXTRA_WORDS]
    if whole:
        group, taken = next(iter(whole.items()))
        return Found(group, _after_name(rest, taken))
    for extra in range(len(words), 0, -1):
        phrase = name_key(" ".join([first, *words[:extra]]))
        matches = [g for g in _prefer_active(await repos.groups.search(phrase.split()))
                   if phrase in g.name_key or phrase == g.slug]
        if len(matches) == 1:
            return Found(matches[0], _after_words(rest, extra))
    return Found(await find_group(repos, first), rest)


async def _whole_names(repos: Repositories, first: str, words: Sequence[str]
                       ) -> dict[ProjectGroup, int]:
    """The groups whose whole name is a run of ``first`` and the next ``words`` (the run's last
    word with or without the punctuation that ends it: ``Atelier vélo, samedi``) or whose
    identifier is ``first``, each with how many of ``words`` it took; active groups only when
    one of them is among them."""
    runs: dict[str, int] = {}  # two runs folded alike: the shorter
    for extra in range(len(words) + 1):
        run = " ".join([first, *words[:extra]])
        for key in (name_key(run), name_key(run.rstrip(_AFTER_NAME))):
            runs.setdefault(key, extra)
    found = await repos.groups.named_exactly(list(runs), fold(first.rstrip(_AFTER_NAME)))
    return {g: runs.get(g.name_key, 0) for g in _prefer_active(found)}


def _after_name(text: str, count: int) -> str:
    """``text`` after its first ``count`` words and a lone punctuation mark after them (the
    French space before a colon: ``Atelier vélo : réunion``)."""
    rest = _after_words(text, count)
    mark, after = split_first(rest)
    return after if mark and not mark.strip(_AFTER_NAME) else rest


def _after_words(text: str, count: int) -> str:
    parts = text.split(maxsplit=count)
    return parts[count] if len(parts) > count else ""


async def _exact(repos: Repositories, ref: str) -> ProjectGroup | None:
    ref = ref.strip()
    number = _NUMBER.match(ref)
    if number:
        return await repos.groups.get(int(number.group(1)))
    folded = fold(ref)
    return await repos.groups.by_slug(folded) or await repos.groups.by_name_key(name_key(ref))


def _prefer_active(groups: Sequence[ProjectGroup]) -> list[ProjectGroup]:
    """Archived groups count only when no active group matches."""
    active = [g for g in groups if g.status != "archive"]
    return active or list(groups)


@dataclass(frozen=True)
class GroupRef:
    """A group named by its number, slug, name or an unambiguous part of its name
    (``find_group``); an optional one left out is the group whose room the command is said in."""

    kind: str = "group"

    async def convert(self, ctx: Context, raw: str) -> ProjectGroup:
        return await find_group(ctx.db(), GROUP_REF.convert(raw))

    async def absent(self, ctx: Context) -> ProjectGroup:
        here = await ctx.db().groups.by_room(ctx.room_id)
        if here is None:  # said like a lookup's refusal: without the usage
            raise MissingArgument("error.missing_argument", name="group", command=None)
        return here


@dataclass(frozen=True)
class GroupThen:
    """A group, then text (``!projet avancement atelier vélo 12 vélos réparés``): the group's
    name may take several words (``find_group_then_text``). ``text`` checks what follows the
    first word, ``text_name`` names it when it is missing (unless ``optional``)."""

    text: Converter
    text_name: str = "text"
    optional: bool = False
    kind: str = "group"

    async def convert(self, ctx: Context, raw: str) -> Found:
        first, rest = next_word(raw)
        if not first:  # ``"" texte``
            raise MissingArgument("error.missing_argument", name="group")
        first = GROUP_REF.convert(first)
        if rest:
            rest = self.text.convert(rest)
        elif not self.optional:
            raise MissingArgument("error.missing_argument", name=self.text_name)
        found = await find_group_then_text(ctx.db(), first, rest, quoted=raw[:1] in QUOTES)
        if not found.rest and not self.optional:  # only a colon after the name
            raise MissingArgument("error.missing_argument", name=self.text_name)
        return found
