"""Everyone who came, against a real Synapse: in an encrypted club room, the coordinator posts
the sign-in sheet of a formation as a CSV file (encrypted: the bot fetches and decrypts it) and
imports it, then counts those who did not sign; « 22 personnes (8 élus, 14 habitants) dont 3
sur Matrix » shows in ``!rencontre info`` and ``!stats``."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from nio import RoomSendResponse, UploadResponse

from tests.integration.club_rooms import club_room
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_polls import OffsetClock
from tests.integration.test_projects import ask

pytestmark = pytest.mark.integration

SHEET = "\r\n".join([
    "Nom;Catégorie;Territoire;Identifiant Matrix",
    "Alice;habitante;nord;{alice}",
    "Bob;habitant;nord;{bob}",
    "Carol;habitante;sud;{carol}",
    "Maire de Guillestre;élue;nord;",
    "Adjointe à Embrun;élue;sud;",
    "Quelqu'un;ministre;nord;",
])


async def send_file(user: MatrixUser, room: str, name: str, data: bytes) -> str:
    """Posts a file as Element does (encrypted in an encrypted room)."""
    await user.client.joined_members(room)
    await user._key_maintenance()
    upload, keys = await user.client.upload(io.BytesIO(data), content_type="text/csv",
                                            filename=name, encrypt=True, filesize=len(data))
    assert isinstance(upload, UploadResponse), upload
    content: dict[str, Any] = {
        "msgtype": "m.file", "body": name, "filename": name,
        "info": {"mimetype": "text/csv", "size": len(data)},
        "file": {**(keys or {}), "url": upload.content_uri, "mimetype": "text/csv"}}
    sent = await user.client.room_send(room, "m.room.message", content,
                                       ignore_unverified_devices=True)
    assert isinstance(sent, RoomSendResponse), sent
    return str(sent.event_id)


async def test_a_sign_in_sheet_and_a_headcount_make_22_people(bot_factory, users) -> None:
    chargee = await users("chargee", encryption=True)
    members = [await users(name, encryption=True) for name in ("alice", "bob", "carol")]
    clock = OffsetClock()
    _, room = await club_room(bot_factory, chargee, members, clock, encrypted=True)
    for member in members:
        assert "Merci" in (await ask(member, room, "!profil categorie habitant", 60)).body

    planned = await ask(chargee, room, "!rencontre planifier dans 1 heure --type formation "
                                       "--titre Fresque du climat --territoire nord", 60)
    assert "Formation n°1 — Fresque du climat" in planned.body, planned.body
    clock.offset = timedelta(hours=2)  # it has started

    alice, bob, carol = (m.user_id for m in members)
    sheet = SHEET.format(alice=alice, bob=bob, carol=carol).encode("cp1252")
    await send_file(chargee, room, "feuille.csv", sheet)
    fetching = await ask(chargee, room, "!rencontre feuille 1", 60)
    assert "Je lis la feuille « feuille.csv »" in fetching.body, fetching.body
    result = await chargee.wait_for(room, lambda e: "Feuille d'émargement" in (
        getattr(e, "body", "") or ""), timeout=60)
    text = result.body.replace("**", "")
    assert "- Sur Matrix, 3 membres notés présents" in text, text
    assert "- 2 invités notés par leur nom (2 élus)" in text, text
    assert "- ligne 7 : catégorie « ministre » inconnue" in text, text

    counted = await ask(chargee, room, "!rencontre effectif 1 6 élus 11 habitants", 60)
    summary = ("Participation : 22 personnes (8 élus, 14 habitants ; nord 18, sud 1, "
               "non renseigné 3), dont 3 sur Matrix, 2 invités nommés et 17 comptés.")
    assert summary in counted.body.replace("**", ""), counted.body
    info = await ask(members[0], room, "!rencontre info 1", 60)
    assert "22 personnes (8 élus, 14 habitants" in info.body.replace("**", ""), info.body
    stats = await ask(chargee, room, "!stats", 60)
    assert "22 personnes comptées aux événements (dont 19 sans Matrix)" in stats.body, stats.body
