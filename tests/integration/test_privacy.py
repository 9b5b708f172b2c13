"""Personal data against a real Synapse: ``!mes-donnees`` arrives in a direct message as a
JSON file; ``!oublier-moi`` then erases the person."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from nio import DownloadResponse, RoomEncryptedFile
from nio.crypto.attachments import decrypt_attachment

from bot.openings import OPENING_STATE
from tests.integration.club_rooms import club_room
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_polls import OffsetClock
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration


async def invited_room(user: MatrixUser, besides: set[str], timeout: float = 60) -> str:
    """The first room ``user`` is invited to, other than ``besides``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for room, members in user.memberships.items():
            if room not in besides and members.get(user.user_id) == "invite":
                return room
        await asyncio.sleep(0.2)
    raise AssertionError(f"{user.user_id} was never invited to a direct room")


async def test_my_data_arrives_in_an_encrypted_direct_message(bot_factory, users) -> None:
    chargee, alice = await users("chargee"), await users("alice", encryption=True)
    _, room = await club_room(bot_factory, chargee, [alice])

    assert "Merci" in (await ask(alice, room, "!profil commune Guillestre")).body
    assert "créé" in (await ask(alice, room, "!projet creer Jardin partagé")).body  # takes part
    reply = await ask(alice, room, "!mes-donnees")
    assert "message privé" in reply.body
    direct = await invited_room(alice, {room})
    await alice.join(direct)
    file = await alice.wait_for(direct, lambda e: isinstance(e, RoomEncryptedFile), timeout=60)
    assert alice.client.rooms[direct].encrypted
    assert file.body.startswith("mes-donnees-") and file.body.endswith(".json")
    downloaded = await alice.client.download(file.url)
    assert isinstance(downloaded, DownloadResponse), downloaded
    assert alice.user_id.encode() not in downloaded.body  # the media repository: ciphertext
    document = json.loads(decrypt_attachment(downloaded.body, file.key["k"],
                                             file.hashes["sha256"], file.iv))
    assert document["user_id"] == alice.user_id
    assert document["tables"]["participants"][0]["commune"] == "Guillestre"
    assert any(row["sender"] == alice.user_id for row in document["tables"]["inbox"])

    # Forgotten: the confirmation is posted without naming her.
    assert "confirmer" in (await ask(alice, room, "!oublier-moi")).body
    await alice.send_text(room, "!oublier-moi confirmer")
    done = await alice.wait_for(room, lambda e: "C'est fait" in (getattr(e, "body", "") or ""),
                                timeout=60)
    assert alice.user_id not in json.dumps(done.source["content"])
    stats = await ask(chargee, room, "!stats")
    assert "Participants : 1 cette année" in stats.body.replace("**", "")  # Alice, by pseudonym


async def test_my_data_opens_a_new_direct_room_once_the_person_left_hers(bot_factory,
                                                                         users) -> None:
    chargee, bea = await users("chargee"), await users("bea")
    clock = OffsetClock()
    _, room = await club_room(bot_factory, chargee, [bea], clock, matrix={"encryption": False})

    assert "message privé" in (await ask(bea, room, "!mes-donnees")).body
    first = await invited_room(bea, {room})
    await bea.join(first)
    await bea.wait_for(first, lambda e: (getattr(e, "body", "") or "").endswith(".json"),
                       timeout=60)
    await bea.leave(first)

    # Within the hour: told when to ask again, no room opened.
    assert "Vous pourrez les redemander le" in (await ask(bea, room, "!mes-donnees")).body
    clock.offset = timedelta(hours=1)
    assert "message privé" in (await ask(bea, room, "!mes-donnees")).body
    second = await invited_room(bea, {room, first})
    await bea.join(second)
    file = await bea.wait_for(second, lambda e: (getattr(e, "body", "") or "").endswith(".json"),
                              timeout=60)
    assert file.body.startswith("mes-donnees-")


async def test_a_direct_room_is_found_again_by_the_mark_of_its_request(bot_factory,
                                                                       users) -> None:
    """A direct room asked with a mark (an outbox row's transaction id) is found by it among
    the bot's rooms, not another room with that person: a retry after a lost answer or a
    crash reuses it rather than inviting them to a second one."""
    chargee, alice = await users("chargee"), await users("alice")
    runners: list = []

    async def factory(**kwargs: object):  # type: ignore[no-untyped-def]
        runners.append(await bot_factory(**kwargs))
        return runners[-1]
    await club_room(factory, chargee, [alice])
    transport = runners[0].bot.transport
    await transport.direct_room(alice.user_id)  # another direct room with her, unmarked
    room = await transport.direct_room(alice.user_id, "cct-effect-mark")
    await alice.wait_membership(room, alice.user_id, "invite")  # she is invited there
    # a room someone else made with her, marked like a request of the bot's, the bot in it
    planted = await chargee.create_room(name="piège", invite=[alice.user_id])
    await chargee.client.room_put_state(planted, OPENING_STATE,
                                        {"opening": "cct-effect-planted"})
    await chargee.invite(planted, transport.user_id)
    async with asyncio.timeout(60):  # the bot's sync shows both rooms, and who made them
        while not (transport.creators(room) and transport.creators(planted)):
            await asyncio.sleep(0.1)
    assert await transport.opened_room(alice.user_id, "cct-effect-mark") == room
    assert await transport.opened_room(chargee.user_id, "cct-effect-mark") is None
    assert await transport.opened_room(alice.user_id, "cct-effect-other") is None
    assert await transport.opened_room(alice.user_id, "cct-effect-planted") is None
