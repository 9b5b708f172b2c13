"""People's pills shown with their display name in the room, as Element shows its own.

The bot writes a person as a link to their id (``commands.text.pill``): the id, escaped, is the
link's text, and that is what is stored. When the message leaves (``bot.matrix.MatrixTransport``),
each such pill takes the person's display name in the room it is sent to, HTML-escaped, unless
the name could mislead; the id stays in the link, in ``m.mentions`` and in the plain ``body``
(exact: what an erasure finds). The id is kept when the name
- is missing, blank, or longer than ``MAX_NAME`` characters;
- holds an ``@`` (it could read as another user's id, or as a mention);
- holds an invisible or format character, or a word mixing scripts (``commands.lookalikes``);
- is ambiguous: another member of the room has a name that looks the same (TR39 skeletons,
  folded: « Alice » and « Аlice » with a Cyrillic « А », or « alice »).
"""

from __future__ import annotations

import asyncio
import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import unquote

from commands.lookalikes import has_hidden_characters, lookalike_keys, word_mixing_scripts
from matrix_ids import MATRIX_TO

MAX_NAME = 80
# A pill as the renderer writes it (sanitised HTML): the link to a user id, its text the id.
_PILL = re.compile(rf'<a href="{re.escape(MATRIX_TO)}(@[^"]+)">([^<]*)</a>')
HTML_FIELDS = ("formatted_body",)


def _collapsed(name: str | None) -> str:
    return " ".join((name or "").split())


def _clear(name: str) -> bool:
    """Whether ``name`` says nothing it does not show and cannot pass for an id."""
    return (0 < len(name) <= MAX_NAME and "@" not in name and not has_hidden_characters(name)
            and word_mixing_scripts(name) is None)


Facts = tuple[tuple[str, str], bool]  # a name's look-alike keys, and whether it is clear


def name_facts(name: str) -> Facts:
    return lookalike_keys(name), _clear(name)


def shown_names(members: Mapping[str, str | None],
                facts_of: Callable[[str], Facts] = name_facts) -> dict[str, str]:
    """The names the pills of a room's ``members`` (user id → display name, ``None`` if unset)
    may show: only clear names no other member's name looks like (``facts_of``: each name's
    look-alike keys, ``commands.lookalikes``, and whether it is clear)."""
    facts = {user: facts_of(name) for user, raw in members.items()
             if (name := _collapsed(raw))}
    counts = Counter(key for keys, _clear in facts.values() for key in set(keys))
    return {user: _collapsed(members[user]) for user, (keys, clear) in facts.items()
            if clear and all(counts[key] == 1 for key in set(keys))}


def name_pills(formatted: str, names: Mapping[str, str]) -> str:
    """The pills of sanitised HTML whose text is their user id, with the person's name from
    ``names`` instead (HTML-escaped); other links and unknown people stay as they are."""
    def named(match: re.Match[str]) -> str:
        user = unquote(html.unescape(match.group(1)))
        name = names.get(user)
        if name is None or html.unescape(match.group(2)) != user:
            return match.group(0)
        return f'<a href="{MATRIX_TO}{match.group(1)}">{html.escape(name, quote=False)}</a>'
    return _PILL.sub(named, formatted)


def pilled_users(content: Mapping[str, object]) -> set[str]:
    """The people a message's HTML (and its edit's) shows as pills."""
    new = content.get("m.new_content")
    parts = [content, *([new] if isinstance(new, Mapping) else [])]
    return {unquote(html.unescape(match.group(1))) for part in parts for key in HTML_FIELDS
            if isinstance(part.get(key), str) for match in _PILL.finditer(str(part[key]))}


def has_pills(formatted: str) -> bool:
    """Whether HTML may hold a person's pill (a link to a user id, its ``@`` as it is or
    percent-encoded, as some clients write it)."""
    return MATRIX_TO + "@" in formatted or MATRIX_TO + "%40" in formatted


def content_has_pills(content: Mapping[str, object]) -> bool:
    """Whether a message's HTML (or its edit's) may hold a person's pill."""
    new = content.get("m.new_content")
    parts = [content, *([new] if isinstance(new, Mapping) else [])]
    return any(isinstance(part.get(key), str) and has_pills(str(part[key]))
               for part in parts for key in HTML_FIELDS)


def with_names(content: dict[str, object], names: Mapping[str, str]) -> dict[str, object]:
    """A message's content (and its edit's new content) with its pills named."""
    named = dict(content)
    for key in HTML_FIELDS:
        if isinstance(named.get(key), str):
            named[key] = name_pills(str(named[key]), names)
    new = named.get("m.new_content")
    if isinstance(new, dict):
        named["m.new_content"] = with_names(new, names)
    return named


class _Index:
    """One room's named members, each with their name's facts, and how many names share each
    look-alike key."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # user id → collapsed name (those with a name)
        self.facts: dict[str, Facts] = {}
        self.counts: Counter[str | tuple[str, str]] = Counter()
        self.touched: set[str] = set()  # changed by the sync while the index was being built

    def put(self, user: str, name: str | None, facts_of: Callable[[str], Facts]) -> None:
        old = self.facts.pop(user, None)
        if old is not None:
            self.counts.subtract(set(old[0]))
            del self.names[user]
        collapsed = _collapsed(name)
        if collapsed:
            self.names[user] = collapsed
            facts = self.facts[user] = facts_of(collapsed)
            self.counts.update(set(facts[0]))

    def shown(self, users: Iterable[str]) -> dict[str, str]:
        """``shown_names``, for ``users`` only."""
        found = {}
        for user in users:
            facts = self.facts.get(user)
            if facts is not None and facts[1] and all(self.counts[key] == 1
                                                      for key in set(facts[0])):
                found[user] = self.names[user]
        return found


class RoomNames:
    """The names the pills of a message may show (``shown_names``), per room, without reading
    the room's whole member list for each message: an index of each room's names by look-alike
    key is built at the room's first message with pills (``chunk`` names per turn of the event
    loop: the club's main room holds 3,500 people), then kept up to date with the members the
    sync changes (``update``); a message reads only its pills' entries. A name's TR39 skeleton
    and scripts, the costly part, are computed once per name."""

    def __init__(self, rooms: int = 256, names: int = 50000, chunk: int = 100) -> None:
        self._rooms = rooms
        self._names = names
        self._chunk = chunk
        self._index: dict[str, _Index] = {}
        self._building: dict[str, asyncio.Future[_Index]] = {}
        self._facts: dict[str, Facts] = {}

    def _facts_of(self, name: str) -> Facts:
        facts = self._facts.get(name)
        if facts is None:
            if len(self._facts) >= self._names:
                self._facts.clear()  # rarely: the names of some 50,000 people
            facts = self._facts[name] = name_facts(name)
        return facts

    async def shown(self, room_id: str, users: Iterable[str],
                    members: Callable[[], Mapping[str, str | None]]) -> dict[str, str]:
        """The names ``users``' pills may show in ``room_id``; ``members``: the room's members
        (user id → display name), read only when the room has no index yet."""
        building = self._building.get(room_id)
        if building is None and room_id not in self._index:
            listed = members()
            index = self._index[room_id] = _Index()  # the sync's changes go to it meanwhile
            building = self._building[room_id] = asyncio.ensure_future(
                self._build(room_id, index, listed))
        if building is not None:
            return (await asyncio.shield(building)).shown(users)
        return self._index[room_id].shown(users)

    async def _build(self, room_id: str, index: _Index,
                     members: Mapping[str, str | None]) -> _Index:
        try:
            pending = list(members.items())
            for start in range(0, len(pending), self._chunk):
                if start:
                    await asyncio.sleep(0)
                for user, name in pending[start:start + self._chunk]:
                    if user not in index.touched:
                        index.put(user, name, self._facts_of)
            index.touched.clear()
            while len(self._index) > self._rooms:
                self._index.pop(next(iter(self._index)))
            return index
        except BaseException:
            if self._index.get(room_id) is index:  # half built: built again next time
                del self._index[room_id]
            raise
        finally:
            self._building.pop(room_id, None)

    def update(self, room_id: str, user_id: str, name: str | None) -> None:
        """``user_id`` joined, was invited, changed their name (``name``: ``None`` when unset)
        or left (``None``) in a room: its index follows, if it has one."""
        index = self._index.get(room_id)
        if index is not None:
            index.put(user_id, name, self._facts_of)
            if room_id in self._building:
                index.touched.add(user_id)

    def forget(self, room_id: str) -> None:
        """The room's members were read again, or the bot left it: its index is built again
        at its next message with pills."""
        self._index.pop(room_id, None)
