"""The report to ADEME against a real Synapse: on the seeded three-year club, a coordinator asks
``!bilan phase2`` and receives the .odt and one CSV per table as files in the room, the PNG
charts as pictures (``m.image``, shown inline); the .odt, downloaded from the media repository
and read back with odfpy, holds the indicators table with the figures ``!stats phase2`` says."""

from __future__ import annotations

import re
from typing import Any

import pytest
from nio import DownloadResponse, RoomMessageFile, RoomMessageImage

from storage.db import Database
from tests.handlers.test_reports import odt_tables
from tests.integration.matrix_user import MatrixUser
from tests.integration.test_projects import ask
from tests.report_seed import seed

pytestmark = pytest.mark.integration

STEM = "bilan-phase2"
FILES = re.compile(rf"^{STEM}(\.odt|-[a-z0-9-]+\.(csv|png))$")


def received(user: MatrixUser, room: str) -> list[Any]:
    """The report's files posted in ``room`` so far (m.file or m.image events)."""
    return [
        e
        for e in user.events.get(room, [])
        if isinstance(e, RoomMessageFile | RoomMessageImage) and FILES.match(e.body)
    ]


def number(text: str) -> float:
    """« 13 500,5 » or « 13500,5 » → 13500.5."""
    return float(re.sub(r"\s", "", text).replace(",", "."))


def indicator_rows(data: bytes) -> dict[str, list[str]]:
    """The .odt's summary table (« indicateur », « réalisé »…), by indicator label."""
    for rows in odt_tables(data).values():
        if rows and rows[0][:2] == ["indicateur", "réalisé"]:
            return {row[0]: row[1:] for row in rows[1:]}
    raise AssertionError("no indicators table in the .odt")


async def test_bilan_phase2_posts_the_odt_the_csvs_and_the_charts(bot_factory, users) -> None:
    chargee = await users("chargee")
    runner = await bot_factory(
        start=False, club={"coordinators": [chargee.user_id], "allowed_inviters": [chargee.user_id]}
    )
    (runner.base / "data").mkdir()
    database = Database(f"sqlite+aiosqlite:///{runner.base / 'data' / 'cct.db'}")
    await database.upgrade()
    await seed(database)
    await database.dispose()
    room = await chargee.create_room(name="CCT", invite=[runner.user_id])
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    await chargee.wait_membership(room, runner.user_id, "join")

    summary = await ask(chargee, room, "!bilan phase2", 120)
    text = summary.body.replace("**", "")
    assert "Indicateurs — Phase 2 du contrat d'objectifs" in text, text
    assert "- Rencontres du club tenues : 6 (objectif 8,5, 71 %) ⚠️ en retard" in text, text
    announced = re.search(r"les (\d+) fichiers du bilan", text)
    assert announced, text
    count = int(announced.group(1))

    def all_received() -> list[Any]:
        found = received(chargee, room)
        return found if len(found) >= count else []

    files = await chargee._wait_until(all_received, 120, f"{count} files of the report")
    names = sorted(e.body for e in files)
    assert len(names) == len(set(names)) == count
    assert f"{STEM}.odt" in names
    assert {
        f"{STEM}-indicateurs.csv",
        f"{STEM}-evenements.csv",
        f"{STEM}-groupes.csv",
        f"{STEM}-financements.csv",
    } <= set(names)
    assert {
        f"{STEM}-presences.png",
        f"{STEM}-categories.png",
        f"{STEM}-territoires.png",
        f"{STEM}-groupes.png",
    } <= set(names)

    by_name = {e.body: e for e in files}
    # The charts come back from the homeserver as pictures (shown inline), with their size;
    # the document and the tables as files.
    for name, event in by_name.items():
        content = event.source["content"]
        if name.endswith(".png"):
            assert isinstance(event, RoomMessageImage), (name, content)
            assert content["msgtype"] == "m.image", content
            assert (content["info"]["mimetype"], content["info"]["w"], content["info"]["h"]) == (
                "image/png", 1200, 675), content
        else:
            assert isinstance(event, RoomMessageFile) and content["msgtype"] == "m.file", content
    downloads = {}
    for name in (f"{STEM}.odt", f"{STEM}-indicateurs.csv", f"{STEM}-presences.png"):
        downloaded = await chargee.client.download(by_name[name].url)
        assert isinstance(downloaded, DownloadResponse), downloaded
        downloads[name] = downloaded.body
    assert downloads[f"{STEM}-presences.png"].startswith(b"\x89PNG\r\n\x1a\n")
    csv_text = downloads[f"{STEM}-indicateurs.csv"].decode("utf-8-sig")
    assert csv_text.startswith('"indicateur";"réalisé"')
    rows = indicator_rows(downloads[f"{STEM}.odt"])
    assert rows["Rencontres du club tenues"][:2] == ["6", "8,5"]
    assert rows["Personnes mobilisées"][:2] == ["79", "3500"]

    # !stats says the same figures for the same period (the .odt writes 13 500,5, !stats 13500,5).
    stats = (await ask(chargee, room, "!stats phase2", 120)).body.replace("**", "")
    said = {
        line[2:].split(" : ", 1)[0]: line.split(" : ", 1)[1].split(" ")[0]
        for line in stats.splitlines()
        if line.startswith("- ") and " : " in line
    }
    assert len(rows) == 15
    for label, (actual, *_rest) in rows.items():
        assert number(said[label]) == number(actual), (label, actual, stats)
