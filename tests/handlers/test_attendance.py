"""``!rencontre effectif`` and ``!rencontre invite``: everyone who came, not only Matrix
accounts, on SQLite and PostgreSQL; the figures in ``!rencontre info`` and ``!stats``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from commands.context import Place
from tests.handlers.conftest import ALICE, COORDINATOR, Harness, retaining, unchanged
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.rencontres import MAIN, NORTH, ORGANISER, held_event
from tests.handlers.test_personal_data import last_upload

BOB = "@bob:example.org"
CAROL = "@carol:example.org"
DIRECT = "!direct:example.org"
TABLES = ("meetings", "meeting_attendance", "meeting_headcounts", "meeting_guests", "audit_log")


@pytest.fixture
def bot(build_bot: Callable[..., Harness]) -> Harness:
    harness = build_bot(main=MAIN, north=NORTH)
    harness.places[DIRECT] = Place.DIRECT
    return harness


async def ask(bot: Harness, body: str, sender: str = COORDINATOR, **kwargs: object) -> str:
    return (await bot.reply_to(body, sender=sender, **kwargs)).replace("**", "")


async def refused(bot: Harness, body: str, sender: str = COORDINATOR) -> str:
    """The reply to a command that must change nothing."""
    return await unchanged(bot.db, TABLES, body, ask(bot, body, sender=sender))


async def test_headcount_per_territory_replaced_when_typed_again(bot: Harness) -> None:
    await held_event(bot)
    reply = await ask(bot, "!rencontre effectif 1 8 élus 14 habitants", sender=ORGANISER)
    assert reply.startswith("Effectif de l'événement n°1, nord : 8 élus, 14 habitants "
                            "(22 personnes sans Matrix).")
    assert "Participation : 22 personnes (8 élus, 14 habitants ; nord 22)" in reply
    # the other order, commas, « et », another territory
    reply = await ask(bot, "!rencontre effectif 1 associations 2, etudiants 1 et 3 autres "
                           "--territoire hors")
    assert "28 personnes" in reply and "hors territoire 6, nord 22" in reply
    # typed again for nord: replaces it
    reply = await ask(bot, "!rencontre effectif 1 5 elus --territoire nord", sender=ORGANISER)
    assert "Participation : 11 personnes" in reply
    async with bot.db.transaction() as repos:
        assert await repos.attendance.headcounts(1) == {
            ("nord", "elu"): 5, ("hors", "association"): 2, ("hors", "etudiant"): 1,
            ("hors", "autre"): 3}
        meeting = await repos.meetings.get(1)
        assert meeting is not None and meeting.status == "tenue"
        actions = [e.action for e in await repos.audit.entries("meeting", 1)]
        assert actions.count("headcount") == 3
    reply = await ask(bot, "!rencontre effectif 1 aucun --territoire hors")
    assert "hors territoire : effacé" in reply and "Participation : 5 personnes" in reply


async def test_done_when_22_people_of_whom_3_on_matrix(bot: Harness) -> None:
    """« 22 personnes (8 élus, 14 habitants) dont 3 sur Matrix »: three members named (their
    profile says habitant), the others counted."""
    await held_event(bot)
    for person in (ALICE, BOB, CAROL):
        await bot.command("!profil categorie habitant", sender=person)
        await bot.command("!profil territoire nord", sender=person)
    await bot.command(f"!rencontre presences 1 {ALICE} {BOB} {CAROL}", sender=ORGANISER)
    reply = await ask(bot, "!rencontre effectif 1 8 élus 11 habitants", sender=ORGANISER)
    assert ("Participation : 22 personnes (8 élus, 14 habitants ; nord 22), dont 3 sur "
            "Matrix, 0 invité nommé et 19 comptés.") in reply
    info = await ask(bot, "!rencontre info 1", sender=BOB)
    assert "Participation : 22 personnes (8 élus, 14 habitants" in info
    stats = await ask(bot, "!stats")
    assert "22 personnes comptées aux événements (dont 19 sans Matrix)" in stats
    assert "tenue, 22 présents" in await ask(bot, "!rencontre liste", sender=BOB)


async def test_guests_by_name_seen_only_by_the_organisation_in_private(bot: Harness) -> None:
    await held_event(bot)
    reply = await ask(bot, "!rencontre invite 1 Marie Durand; Jean *Martin* --categorie élus",
                      sender=ORGANISER)
    assert reply.startswith("2 invités notés à l'événement n°1 (élus, nord).")
    await ask(bot, "!rencontre invite 1 Zoé Blanc --territoire sud --categorie hab")
    async with bot.db.transaction() as repos:
        assert [(g.name, g.category, g.territory) for g in await repos.attendance.guests(1)] == [
            ("Marie Durand", "elu", "nord"), ("Jean *Martin*", "elu", "nord"),
            ("Zoé Blanc", "habitant", "sud")]
    member = await ask(bot, "!rencontre info 1", sender=BOB)
    assert "3 personnes (2 élus, 1 habitants ; nord 2, sud 1)" in member
    assert "Marie" not in member and "message privé" not in member
    in_room = await ask(bot, "!rencontre info 1", sender=ORGANISER)
    assert "Marie" not in in_room and "qu'en message privé" in in_room
    sent = await bot.command("!rencontre info 1", sender=ORGANISER, room_id=DIRECT)
    assert "Invités :** Marie Durand, Jean *Martin*, Zoé Blanc" in sent[0].content["body"]
    assert "<em>" not in sent[0].content["formatted_body"]  # a name is text, not Markdown
    private = await bot.reply_to("!rencontre info 1", sender=BOB, room_id=DIRECT)
    assert "Marie" not in private


async def test_refusals_change_nothing(bot: Harness) -> None:
    await held_event(bot)
    await bot.command("!rencontre planifier dans 3 jours 18h", sender=COORDINATOR)
    await bot.command("!rencontre planifier dans 4 jours 18h", sender=COORDINATOR)
    await bot.command("!rencontre annuler 3", sender=COORDINATOR)
    assert "n'est pas une catégorie" in await refused(bot, "!rencontre effectif 1 8 ministres")
    assert "Catégories : Élus (`elu`)" in await refused(bot, "!rencontre effectif 1 8 ministres")
    assert "ne peut pas être négatif" in await refused(bot, "!rencontre effectif 1 elus -3")
    assert "plus que le maximum" in await refused(bot, "!rencontre effectif 1 elus 5001")
    assert "plus que le maximum" in await refused(bot, "!rencontre effectif 1 elus 99999999999")
    assert "Il manque le nombre de « elu »" in await refused(bot, "!rencontre effectif 1 elus")
    assert "ne suit ni ne précède" in await refused(bot, "!rencontre effectif 1 3 4 elus")
    assert "donnée deux fois" in await refused(bot, "!rencontre effectif 1 3 elus 4 élus")
    assert "n'est pas un territoire" in await refused(
        bot, "!rencontre effectif 1 3 elus --territoire lune")
    assert "n'a pas encore commencé" in await refused(bot, "!rencontre effectif 2 3 elus")
    assert "est annulée" in await refused(bot, "!rencontre effectif 3 3 elus")
    assert "pas de rencontre n°9" in await refused(bot, "!rencontre effectif 9 3 elus")
    assert await refused(bot, "!rencontre effectif 1 3 elus", sender=BOB) == (
        "Seules l'organisation de l'événement et la coordination notent qui est venu.")
    assert "Seules" in await refused(bot, "!rencontre invite 1 Marie", sender=BOB)
    assert "sans balises HTML" in await refused(bot, "!rencontre invite 1 <b>Marie</b>")
    assert "120 caractères au plus" in await refused(bot, "!rencontre invite 1 " + "x" * 121)
    assert "n'est pas une catégorie" in await refused(
        bot, "!rencontre invite 1 Marie --categorie ministre")


async def test_help_lists_the_configured_categories(bot: Harness) -> None:
    text = await ask(bot, "!aide rencontre")
    assert "rencontre effectif <n°> <8 élus 14 habitants…> [--territoire <territoire>]" in text
    assert "Catégories de personnes (effectif, feuille d'émargement) : Élus (`elu`)" in text


async def test_a_guest_who_asks_is_forgotten_and_stays_counted(bot: Harness) -> None:
    await held_event(bot)
    await bot.command("!rencontre invite 1 Élise  Brunet; Jean Martin --categorie élus",
                      sender=ORGANISER)
    reply = await ask(bot, "!rencontre oublier-invite 1 élise brunet", sender=ORGANISER)
    assert reply == ("1 nom effacé à l'événement n°1 : la personne reste comptée dans "
                     "l'effectif de sa catégorie et de son territoire.")
    async with bot.db.transaction() as repos:
        assert [g.name for g in await repos.attendance.guests(1)] == ["Jean Martin"]
        assert await repos.attendance.headcounts(1) == {("nord", "elu"): 1}
        assert (await repos.attendance.turnout(1)).total == 2
    assert "Aucun invité de ce nom" in await refused(bot, "!rencontre oublier-invite 1 Élise")
    assert "Seules" in await refused(bot, "!rencontre oublier-invite 1 Jean Martin", sender=BOB)
    # the north's headcount typed again: Élise is still counted, on top of it
    await bot.command("!rencontre effectif 1 3 élus", sender=ORGANISER)
    async with bot.db.transaction() as repos:
        assert await repos.attendance.headcounts(1) == {("nord", "elu"): 4}
        assert (await repos.attendance.turnout(1)).total == 5


async def test_the_nightly_purge_turns_old_guests_into_headcounts(bot: Harness) -> None:
    """The retention delay after the event, the guests' names go; the figures stay."""
    await held_event(bot)
    await bot.command("!rencontre invite 1 Marie Durand; Jean Martin --categorie élus",
                      sender=ORGANISER)
    await bot.command("!rencontre effectif 1 3 élus", sender=ORGANISER)
    job = bot.job("retention", retaining(730, 0))
    for days, names in ((729, ["Marie Durand", "Jean Martin"]), (2, [])):
        bot.clock.advance(timedelta(days=days))
        [(item, due)] = await job.pending()
        bot.clock.set(due)
        await job.fire(item)
        async with bot.db.transaction() as repos:
            assert [g.name for g in await repos.attendance.guests(1)] == names
            assert (await repos.attendance.turnout(1)).by_category() == {"elu": 5}
    async with bot.db.transaction() as repos:
        assert await repos.attendance.headcounts(1) == {("nord", "elu"): 5}


async def test_my_data_names_no_one_else_who_came(bot: Harness) -> None:
    """The attendance entry names everyone who came: Bob's copy names only him."""
    await held_event(bot)
    await bot.command(f"!rencontre presences 1 {ALICE} {BOB} {CAROL}", sender=ORGANISER)
    await bot.command("!mes-donnees", sender=BOB)
    document = last_upload(bot)
    exported = json.dumps(document, ensure_ascii=False)
    assert ALICE not in exported and CAROL not in exported
    attendance = [row for row in document["tables"]["audit_log"]
                  if row["action"] == "attendance"]
    assert [row["details"]["people"] for row in attendance] == [[BOB]]
    assert attendance[0]["details"]["count"] == 3
