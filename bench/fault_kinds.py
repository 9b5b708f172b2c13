"""The faults of ``bench.faults``: one async function each, taking the ``Scene`` (homeserver,
client, rooms, the bot's database file) and returning a short note on how its own command
ended. They run in the order of ``FAULTS``: those whose effect lasts (an invitation retried)
come last."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from nio import RoomMessageNotice

from bench.harness import Child, LocalSynapse, guarded
from tests.integration.matrix_user import MatrixUser
from tests.lock_holder import LockHolder

REPLY_WAIT_S = 60.0
CHARTER_LINES = 350  # `!cadre`'s answer: about 70 KB, over the homeserver's 64 KiB
CADRES = 5  # `!cadre` asked this many times, one after the other, in each long reply phase
LINE = "Nous nous engageons à écouter chacun, à agir ensemble et à décider en commun — {n}."
NOT_ENDED = "not sent, no try ended yet"
PARTS = re.compile(r"\(1/(\d+), suite ci-dessous\)")


def charter(lines: int = CHARTER_LINES) -> str:
    return "\n".join(f"{n}. " + LINE.format(n=n) for n in range(1, lines + 1))


@dataclass
class Scene:
    """What a fault can use: the homeserver, the client, the rooms, the bot's database file,
    a server on loopback that never answers."""

    server: LocalSynapse
    client: MatrixUser
    bot_id: str
    rooms: dict[str, str]  # main, north (bot not a moderator), pings, long, long-e2e
    database: Path
    children: list[Child]
    silent: str  # "127.0.0.1:port" of a server that accepts connections and never answers
    request_deadline_s: float  # the bot's ``matrix.request_timeout_seconds``
    arrivals: dict[str, float] = field(default_factory=dict)  # replied-to event -> monotonic

    async def ask(self, room: str, text: str, replies: int = 1) -> list[str]:
        """Sends ``text`` in ``room``; the bodies of the first ``replies`` replies to it."""
        return await self.answers(room, await self.client.send_text(self.rooms[room], text),
                                  replies)

    async def answers(self, room: str, event_id: str, replies: int = 1) -> list[str]:
        """The bodies of the first ``replies`` replies to ``event_id``, waited for."""
        async def answered() -> list[str]:
            while len(found := self.replies(room, event_id)) < replies:
                await asyncio.sleep(0.05)
            return found

        return await guarded(answered(), self.children, REPLY_WAIT_S)

    def replies(self, room: str, event_id: str) -> list[str]:
        return [event.body for event in self.client.replies_to(self.rooms[room], event_id)]

    def notices(self, room: str, start: str) -> list[str]:
        return [str(event.body) for event in self.client.events.get(self.rooms[room], [])
                if isinstance(event, RoomMessageNotice) and event.body.startswith(start)]

    async def notice(self, room: str, start: str, count: int = 1) -> str:
        """Waits until ``room`` holds ``count`` notices starting with ``start``; the last."""
        async def seen() -> str:
            while len(found := self.notices(room, start)) < count:
                await asyncio.sleep(0.05)
            return found[-1]

        return await guarded(seen(), self.children, REPLY_WAIT_S)


Fault = Callable[[Scene], Coroutine[Any, Any, str]]


async def sqlite_lock(scene: Scene, held_s: float = 10.0) -> str:
    """Another process holds the write lock of the bot's SQLite file for ``held_s`` seconds;
    meanwhile a command that writes is sent in the main room."""
    async with LockHolder(scene.database) as other:
        started = time.monotonic()
        event_id = await scene.client.send_text(scene.rooms["main"], "!rappel dans 3 jours bench")
        await asyncio.sleep(held_s - (time.monotonic() - started))
        during = len(scene.replies("main", event_id))
        await other.release()
    freed = time.monotonic()

    def answers() -> list[str]:
        return [body for body in scene.replies("main", event_id) if "occupée" not in body]

    async def answered() -> None:
        while not answers():
            await asyncio.sleep(0.05)

    await guarded(answered(), scene.children, REPLY_WAIT_S)
    after_ms = (time.monotonic() - freed) * 1000
    await asyncio.sleep(1)  # anything more would come now
    bodies = scene.replies("main", event_id)
    return (f"the write: {len(answers())} answer(s) (« {answers()[0][:40]}… »), "
            f"{after_ms:.0f} ms after the lock was freed; {len(bodies) - len(answers())} "
            f"« occupée » notice(s); {during} message(s) during the lock")


async def no_moderator(scene: Scene) -> str:
    """The bot publishes a rencontre's agenda in a room where it is not a moderator: the pin is
    refused, the room is told why."""
    day = datetime.now(UTC) + timedelta(days=10)
    await scene.ask("main", f"!rencontre planifier {day.day:02d}/{day.month:02d}/{day.year} "
                            "18h30 --territoire nord")
    await scene.ask("main", "!odj ajouter Accueil")
    published = (await scene.ask("main", "!odj publier"))[0]
    notice = await scene.notice("north", "Impossible")
    claims_pin = "épingl" in published
    return (f"reply {'claims' if claims_pin else 'does not claim'} a pin; the room is told: "
            f"« {notice[:60]}… »")


async def long_reply(scene: Scene, room: str) -> str:
    """``!cadre`` answered with a charter of about 70 KB, ``CADRES`` times one after the
    other: each answer must come whole, in parts, once."""
    counts, asked = [], []
    for _ in range(CADRES):
        asked.append(await scene.client.send_text(scene.rooms[room], "!cadre"))
        first = (await scene.answers(room, asked[-1]))[0]
        found = PARTS.search(first)
        if found is None:
            return f"the answer came in one message ({len(first)} characters): not over the limit?"
        counts.append(int(found.group(1)))
        await scene.notice(room, f"(suite {counts[-1]}/{counts[-1]})", count=len(counts))
    await asyncio.sleep(1)  # a repeated part would come now
    parts = (sum(len(scene.replies(room, event_id)) for event_id in asked)
             + len(scene.notices(room, "(suite ")))
    return (f"{CADRES} × `!cadre` ({CHARTER_LINES} lines): each answered in "
            f"{'/'.join(map(str, sorted(set(counts))))} parts; {parts} parts received for "
            f"{sum(counts)} sent")


async def long_plain(scene: Scene) -> str:
    return await long_reply(scene, "long")


async def long_encrypted(scene: Scene) -> str:
    return await long_reply(scene, "long-e2e")


async def silent_member(scene: Scene) -> str:
    """A room alias on a server that never answers (``!projet salon g #x:silent``), then a
    group whose member is on that server gets its room: the member's invitation waits for the
    request deadline, again and again, while the rest goes on."""
    made_before = len(scene.notices("main", "Salon créé"))
    await scene.ask("main", "!projet creer Silence")
    alias = (await scene.ask("main", f"!projet salon silence #salon:{scene.silent}"))[0]
    ghost = f"@ghost:{scene.silent}"
    await asyncio.to_thread(_add_member, scene.database, "silence", ghost)
    await scene.ask("main", "!projet salon silence")
    made = await scene.notice("main", "Salon créé", count=made_before + 1)
    started = time.monotonic()
    state = await first_try_ended(scene, ghost)
    made_count = len(scene.notices("main", "Salon créé")) - made_before
    return (f"`!projet salon silence #salon:…` answered « {alias[:45]}… »; « {made[:30]}… » "
            f"×{made_count}; the member's invitation {time.monotonic() - started:.0f} s "
            f"later: {state}")


async def failing_invite(scene: Scene) -> str:
    """A group with a member whose server does not exist (written into the bot's database, as
    a member whose server has gone since), then its room: the bot's invite of that member
    into the room fails every time."""
    made_before = len(scene.notices("main", "Salon créé"))
    await scene.ask("main", "!projet creer Vélo")
    await asyncio.to_thread(_add_member, scene.database, "velo", "@x:dead.invalid")
    await scene.ask("main", "!projet salon velo")
    made = await scene.notice("main", "Salon créé", count=made_before + 1)
    started = time.monotonic()
    state = await first_try_ended(scene, "@x:dead.invalid")
    return (f"« {made[:30]}… » once; the invitation {time.monotonic() - started:.0f} s later: "
            f"{state}")


async def first_try_ended(scene: Scene, user_id: str) -> str:
    """What became of the invitation of ``user_id`` once its first try in the outbox ended
    (each try: up to 3 requests of one deadline each), or when that is long overdue."""
    limit = time.monotonic() + 4 * (scene.request_deadline_s + 5) + 20
    while (state := await asyncio.to_thread(_invitation, scene.database, user_id)) \
            == NOT_ENDED and time.monotonic() < limit:
        await asyncio.sleep(1)
    return state


def _add_member(database: Path, slug: str, user_id: str) -> None:
    with sqlite3.connect(database, timeout=30) as connection:
        connection.execute(
            "INSERT INTO group_members (group_id, user_id, joined_at, referent) "
            "SELECT group_id, ?, joined_at, 0 FROM group_members WHERE group_id = "
            "(SELECT id FROM project_groups WHERE slug = ?) LIMIT 1", (user_id, slug))
    connection.close()


def _invitation(database: Path, user_id: str) -> str:
    """What became of the invitation of ``user_id`` (its outbox row)."""
    with sqlite3.connect(database, timeout=30) as connection:
        rows = connection.execute(
            "SELECT sent_at, failing_since, failed_at FROM outbox WHERE action = 'invite' "
            "AND content LIKE ?", (f"%{user_id}%",)).fetchall()
    connection.close()
    if len(rows) != 1:
        return f"{len(rows)} row(s)"
    sent, failing, failed = rows[0]
    return ("sent" if sent else "set aside as failed" if failed
            else "failing, retried" if failing else NOT_ENDED)


# The order they run in: a fault whose effect lasts (an invitation retried) comes last.
FAULTS: dict[str, Fault] = {"sqlite-lock": sqlite_lock, "no-moderator": no_moderator,
                            "long-reply": long_plain, "long-reply-e2e": long_encrypted,
                            "silent-server": silent_member, "failing-invite": failing_invite}
