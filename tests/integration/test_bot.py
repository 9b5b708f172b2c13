"""The bot against a real Synapse: invites, commands, encryption, restarts, bursts, escaping."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from typing import Any

import icalendar
import pytest
from nio import DownloadResponse, RoomEncryptedFile
from nio.crypto.attachments import decrypt_attachment

from commands.polls import native
from commands.roles import Role
from tests.integration.conftest import BotRunner, unique
from tests.integration.matrix_user import MatrixUser

pytestmark = pytest.mark.integration


async def club(bot_factory: Any, users: Any, *, encrypted: bool = False,
               **overrides: Any) -> tuple[BotRunner, MatrixUser, str]:
    """A coordinator, a main room where the bot is invited, and the bot started on it."""
    chargee = await users("chargee", encryption=encrypted)
    club_settings = {"coordinators": [chargee.user_id], "allowed_inviters": [chargee.user_id]}
    club_settings.update(overrides.pop("club", {}))
    runner = await bot_factory(start=False, club=club_settings, **overrides)
    room = await chargee.create_room(name="CCT", invite=[runner.user_id], encrypted=encrypted)
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")
    return runner, chargee, room


async def ask(user: MatrixUser, room: str, text: str, timeout: float = 30) -> Any:
    event_id = await user.send_text(room, text)
    return await user.wait_for_reply(room, event_id, timeout=timeout)


async def test_ping_answers_with_version_and_latency(bot_factory, users) -> None:
    _, chargee, room = await club(bot_factory, users)
    reply = await ask(chargee, room, "!ping")
    assert reply.source["content"]["msgtype"] == "m.notice"
    assert "pong — cct-bot" in reply.body and "latence" in reply.body


async def test_help_lists_commands_in_french_and_details_one(bot_factory, users) -> None:
    _, chargee, room = await club(bot_factory, users)
    index = await ask(chargee, room, "!aide")
    assert "Pour commencer" in index.body
    assert "!ping" in index.body and "!cadre" in index.body and "!aide" in index.body
    detail = await ask(chargee, room, "!HELP cadre")
    assert "!cadre" in detail.body and "charte" in detail.body
    unknown = await ask(chargee, room, "!pign")
    assert "Commande inconnue" in unknown.body and "!ping" in unknown.body


async def test_charter_is_shown(bot_factory, users) -> None:
    _, chargee, room = await club(bot_factory, users)
    reply = await ask(chargee, room, "!cadre")
    assert "On s'écoute" in reply.body


async def test_joins_when_an_allowed_user_invites_and_refuses_a_stranger(bot_factory, users) -> None:
    runner, chargee, _ = await club(bot_factory, users)
    stranger = await users("stranger")
    other = await chargee.create_room(name="Groupe vélo", invite=[runner.user_id])
    await chargee.wait_membership(other, runner.user_id, "join")
    reply = await ask(chargee, other, "!ping")
    assert "pong" in reply.body
    refused = await stranger.create_room(name="Pas le club", invite=[runner.user_id])
    await stranger.wait_membership(refused, runner.user_id, "leave")


async def test_invite_sent_while_the_bot_was_down_is_handled_at_start(bot_factory, users) -> None:
    runner, chargee, _ = await club(bot_factory, users)
    stranger = await users("stranger")
    await runner.stop()
    invited = await chargee.create_room(name="Pendant l'arrêt", invite=[runner.user_id])
    refused = await stranger.create_room(name="Inconnu", invite=[runner.user_id])
    await runner.start()
    await chargee.wait_membership(invited, runner.user_id, "join")
    await stranger.wait_membership(refused, runner.user_id, "leave")


async def test_encrypted_room_works_the_same(bot_factory, users) -> None:
    runner, chargee, room = await club(bot_factory, users, encrypted=True)
    event_id = await chargee.send_text(room, "!ping")
    reply = await chargee.wait_for_reply(room, event_id, timeout=60)
    assert reply.source["type"] in ("m.room.encrypted", "m.room.message")
    assert "pong" in reply.body
    assert chargee.client.rooms[room].encrypted


async def test_files_in_an_encrypted_room_are_encrypted(bot_factory, users) -> None:
    _, chargee, room = await club(bot_factory, users, encrypted=True)
    planned = await ask(chargee, room, "!rencontre planifier 12/01 18h30 --lieu Embrun "
                        "--territoire commun", timeout=60)
    assert "planifié" in planned.body
    file = await chargee.wait_for(room, lambda e: isinstance(e, RoomEncryptedFile), timeout=60)
    assert file.body == "rencontre-1.ics"
    assert "url" not in file.source["content"]  # the file is named only inside "file"
    downloaded = await chargee.client.download(file.url)
    assert isinstance(downloaded, DownloadResponse), downloaded
    assert b"BEGIN:VCALENDAR" not in downloaded.body  # the homeserver holds ciphertext
    clear = decrypt_attachment(downloaded.body, file.key["k"], file.hashes["sha256"], file.iv)
    calendar = icalendar.Calendar.from_ical(clear)
    event = next(c for c in calendar.walk() if c.name == "VEVENT")
    assert "Embrun" in str(event["location"])


async def test_encrypted_room_still_encrypted_after_a_restart(bot_factory, users) -> None:
    runner, chargee, room = await club(bot_factory, users, encrypted=True)
    first = await chargee.send_text(room, "!ping")
    assert (await chargee.wait_for_reply(room, first, timeout=60)).decrypted
    await runner.stop()
    while_down = await chargee.send_text(room, "!ping")
    await runner.start()
    reply = await chargee.wait_for_reply(room, while_down, timeout=60)
    assert reply.decrypted and "pong" in reply.body
    after = await chargee.send_text(room, "!cadre")
    assert (await chargee.wait_for_reply(room, after, timeout=60)).decrypted


async def test_moderator_of_the_main_room_is_coordinator_after_a_restart(bot_factory, users) -> None:
    chargee = await users("chargee")
    moderator = await users("moderateur")
    runner = await bot_factory(start=False, club={"allowed_inviters": [chargee.user_id]})
    room = await chargee.create_room(name="CCT", invite=[runner.user_id, moderator.user_id],
                                     power_levels={moderator.user_id: 50})
    await moderator.join(room)
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")
    await runner.stop()
    await runner.start()
    assert runner.bot is not None
    assert await runner.bot.role_of(moderator.user_id) == Role.COORDINATOR
    assert await runner.bot.role_of(chargee.user_id) == Role.COORDINATOR  # the room's creator
    assert await runner.bot.role_of("@someone:localhost") == Role.PARTICIPANT


async def test_help_follows_the_power_levels_of_the_main_room(bot_factory, users) -> None:
    """A member sees the members' commands and a line saying others exist; a moderator of the
    main room sees the coordination's; once given that power, the member does too."""
    from tests.integration.test_room_events import set_levels  # it imports this module

    chargee, membre = await users("chargee"), await users("membre")
    moderator = await users("moderatrice")
    runner = await bot_factory(start=False, club={"allowed_inviters": [chargee.user_id]})
    room = await chargee.create_room(name="CCT", invite=[runner.user_id, membre.user_id,
                                                         moderator.user_id],
                                     power_levels={moderator.user_id: 50})
    await membre.join(room)
    await moderator.join(room)
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")
    member_index = (await ask(membre, room, "!aide")).body
    assert "!rencontre" in member_index and "!bilan" not in member_index
    assert "D'autres commandes sont réservées aux référents des groupes-projets et à la " \
           "coordination" in member_index
    member_detail = (await ask(membre, room, "!aide bilan")).body
    assert "!bilan" in member_detail and "Réservé à la coordination du club." in member_detail
    moderator_index = (await ask(moderator, room, "!aide")).body
    assert "!bilan" in moderator_index and "D'autres commandes" not in moderator_index
    await set_levels(chargee, room, {membre.user_id: 50})
    promoted = (await ask(membre, room, "!aide")).body
    assert "!bilan" in promoted and "D'autres commandes" not in promoted


async def test_restart_never_repeats_and_catches_up_once(bot_factory, users) -> None:
    runner, chargee, room = await club(bot_factory, users)
    before = await chargee.send_text(room, "!ping")
    await chargee.wait_for_reply(room, before)
    await runner.stop()
    while_down = await chargee.send_text(room, "!aide")
    await runner.start()
    await chargee.wait_for_reply(room, while_down, timeout=60)
    sentinel = await chargee.send_text(room, "!ping")
    await chargee.wait_for_reply(room, sentinel)
    # Replies of one room are sent in order: any duplicate would have arrived before the sentinel's.
    assert len(chargee.replies_to(room, before)) == 1
    assert len(chargee.replies_to(room, while_down)) == 1


async def test_history_from_before_the_bot_joined_is_ignored(bot_factory, users) -> None:
    chargee = await users("chargee")
    runner = await bot_factory(start=False, club={"allowed_inviters": [chargee.user_id]})
    room = await chargee.create_room(name="Ancien salon")
    old = await chargee.send_text(room, "!ping")
    runner.overrides["rooms"] = {"main": room}
    await chargee.invite(room, runner.user_id)
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")
    sentinel = await chargee.send_text(room, "!ping")
    await chargee.wait_for_reply(room, sentinel)
    assert chargee.replies_to(room, old) == []


async def _join_people(chargee: MatrixUser, users: Any, room: str, count: int) -> list[MatrixUser]:
    people = [chargee]
    for name in ("alice", "bob", "claude")[: count - 1]:
        person = await users(name)
        await chargee.invite(room, person.user_id)
        await person.join(room)
        people.append(person)
    return people


async def _burst(people: list[MatrixUser], room: str, per_person: int) -> list[str]:
    async def send_many(person: MatrixUser) -> list[str]:
        return [await person.send_text(room, f"!ping {i}" if i % 2 else "!ping")
                for i in range(per_person)]

    batches = await asyncio.gather(*(send_many(p) for p in people))
    return [event for batch in batches for event in batch]


async def _each_answered_once(watcher: MatrixUser, room: str, sent: list[str]) -> None:
    await watcher.wait_until(lambda: not watcher.unanswered(room, sent), 240, "every reply")
    sentinel = await watcher.send_text(room, "!ping")
    await watcher.wait_for_reply(room, sentinel, timeout=60)
    counts = [len(watcher.replies_to(room, event_id)) for event_id in sent]
    assert counts == [1] * len(sent)


# The bursts test the bot's throughput: 100 commands each, without the per-person rate.
NO_RATE = {"commands_per_minute": 0}


async def test_burst_of_300_commands_from_3_users_each_answered_once(bot_factory, users) -> None:
    _, chargee, room = await club(bot_factory, users, limits=NO_RATE)
    people = await _join_people(chargee, users, room, 3)
    sent = await _burst(people, room, 100)
    assert len(sent) == 300
    await _each_answered_once(chargee, room, sent)


async def test_burst_while_the_bot_is_down_is_backfilled(bot_factory, users) -> None:
    """300 commands while stopped: the first sync is limited (default settings); none is lost."""
    runner, chargee, room = await club(bot_factory, users, limits=NO_RATE)
    people = await _join_people(chargee, users, room, 3)
    await runner.stop()
    sent = await _burst(people, room, 100)
    await runner.start()
    await _each_answered_once(chargee, room, sent)


def _notifications(user: MatrixUser) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        f"{user.server.url}/_matrix/client/v3/notifications?limit=100",
        headers={"Authorization": f"Bearer {user.client.access_token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return list(json.load(response)["notifications"])


async def test_room_mention_and_html_come_back_escaped_and_ping_nobody(bot_factory, users) -> None:
    runner, chargee, room = await club(bot_factory, users)
    listener = await users("listener")
    await chargee.invite(room, listener.user_id)
    await listener.join(room)
    event_id = await chargee.send_text(room, "!aide <script>alert(1)</script>@room")
    reply = await chargee.wait_for_reply(room, event_id)
    content = reply.source["content"]
    assert "<script" not in content["formatted_body"]
    assert "&lt;script&gt;" in content["formatted_body"]
    assert "@room" not in content["body"]
    assert "room" not in content["m.mentions"]
    assert content["m.mentions"]["user_ids"] == [chargee.user_id]
    await listener.wait_for(room, lambda e: getattr(e, "event_id", None) == reply.event_id)
    highlighted = [n for n in _notifications(listener)
                   if n["event"]["event_id"] == reply.event_id and
                   any(isinstance(a, dict) and a.get("set_tweak") == "highlight" and a.get("value", True)
                       for a in n["actions"])]
    assert highlighted == []


async def test_a_poll_s_options_notify_nobody_when_it_closes(bot_factory, users) -> None:
    runner, chargee, room = await club(bot_factory, users)
    listener = await users("listener")
    await chargee.invite(room, listener.user_id)
    await listener.join(room)
    name = (await listener.client.get_displayname()).displayname
    opened = await chargee.send_text(room, f'!sondage question "Ça vous va ?" choix @room | '
                                           f'{name} | Non')
    assert "ouvert" in (await chargee.wait_for_reply(room, opened)).body
    await chargee.wait_for_reply(room, await chargee.send_text(room, "!sondage cloturer 1"))
    ended = await listener.wait_for(room, lambda e: getattr(e, "type", None) == native.END
                                    and e.sender == runner.user_id)
    content = ended.source["content"]
    assert name in content["body"] and "@room" not in content["body"], content
    assert content["m.mentions"] == {}
    pong = await listener.wait_for_reply(room, await listener.send_text(room, "!ping"))
    from_bot = [n["event"] for n in _notifications(listener)  # but the reply naming them
                if n["event"]["sender"] == runner.user_id and n["event"]["event_id"] != pong.event_id]
    assert from_bot == [], from_bot


async def test_newcomer_is_welcomed_once_with_the_charter(bot_factory, users) -> None:
    runner, chargee, room = await club(bot_factory, users)
    newcomer = await users("newcomer")
    await chargee.invite(room, newcomer.user_id)
    await newcomer.join(room)

    def is_welcome(event: Any) -> bool:
        content = event.source.get("content", {})
        return newcomer.user_id in content.get("m.mentions", {}).get("user_ids", [])

    welcome = await chargee.wait_for(room, lambda e: getattr(e, "sender", "") == runner.user_id
                                     and is_welcome(e))
    assert "Bienvenue" in welcome.body and "On s'écoute" in welcome.body and "!aide" in welcome.body
    await newcomer.leave(room)
    await chargee.invite(room, newcomer.user_id)
    await newcomer.join(room)
    sentinel = await chargee.send_text(room, "!ping")
    await chargee.wait_for_reply(room, sentinel)
    welcomes = [e for e in chargee.events[room]
                if getattr(e, "sender", "") == runner.user_id and is_welcome(e)]
    assert len(welcomes) == 1


async def test_welcomes_show_the_names_of_people_who_joined_since_the_room_was_read(
        bot_factory, users) -> None:
    """The pills of a room's messages show people's names from an index of its members read
    at its first message with pills, then kept up to date by the sync (the main room's 3,500
    are not read again for each message): someone who joins later is shown by their name."""
    runner, chargee, room = await club(bot_factory, users, club={"welcome_every_seconds": 0})
    for name in ("Première Arrivée", "Deuxième Arrivée"):
        person = await users("arrival")
        await person.client.set_displayname(name)
        await chargee.invite(room, person.user_id)
        await person.join(room)

        def welcomes(event: Any, user: str = person.user_id) -> bool:
            content = event.source.get("content", {})
            return getattr(event, "sender", "") == runner.user_id and user in content.get(
                "m.mentions", {}).get("user_ids", [])

        welcome = await chargee.wait_for(room, welcomes)
        assert f'<a href="https://matrix.to/#/{person.user_id}">{name}</a>' in welcome.source[
            "content"]["formatted_body"]


async def test_forty_people_joining_at_once_are_welcomed_in_a_few_messages(
        bot_factory, users, synapse) -> None:
    """After a public rencontre, 40 people join the main room at once: each is named (and
    mentioned) in exactly one welcome, and the welcomes are a few messages, not 40 charters.
    (``welcome_every_seconds`` is 10 here, to keep the test short; 60 by default.)"""
    runner, chargee, room = await club(bot_factory, users, club={"welcome_every_seconds": 10})
    crowd = await asyncio.gather(*(asyncio.to_thread(synapse.register, unique("crowd"), "crowd-pw")
                                   for _ in range(40)))
    tokens = await asyncio.gather(*(asyncio.to_thread(synapse.login_token, user, "crowd-pw")
                                    for user in crowd))
    for user in crowd:
        await chargee.invite(room, user)
    path = f"/_matrix/client/v3/join/{urllib.parse.quote(room)}"
    await asyncio.gather(*(asyncio.to_thread(_call, synapse.url, "POST", path, token)
                           for token in tokens))

    named: dict[str, int] = {}
    welcomes: dict[str, list[str]] = {}

    def count(event: Any) -> bool:
        """Notes each welcome of the bot once; true when all 40 are named."""
        content = event.source.get("content", {})
        if getattr(event, "sender", "") == runner.user_id and "Bienvenue" in content.get(
                "body", "") and event.event_id not in welcomes:
            welcomes[event.event_id] = content.get("m.mentions", {}).get("user_ids", [])
            for user in welcomes[event.event_id]:
                named[user] = named.get(user, 0) + 1
        return set(crowd) <= set(named)

    await chargee.wait_for(room, count, timeout=120)
    sentinel = await chargee.send_text(room, "!ping")  # anything later would come before
    await chargee.wait_for_reply(room, sentinel)
    for event in chargee.events[room]:
        count(event)
    assert named == dict.fromkeys(crowd, 1)  # each exactly once
    assert 1 <= len(welcomes) <= 4, len(welcomes)
    grouped = [e for e in chargee.events[room] if e.event_id in welcomes
               and len(welcomes[e.event_id]) > 1]
    assert grouped and all("On s'écoute" not in e.body and "`!cadre`" in e.source["content"][
        "body"] for e in grouped)


def _call(base: str, method: str, path: str, token: str) -> dict[str, Any]:
    request = urllib.request.Request(base + path, method=method, data=b"{}", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        result: dict[str, Any] = json.loads(response.read() or b"{}")
        return result


