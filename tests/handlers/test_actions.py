"""Actions decided at events, end to end on SQLite and PostgreSQL: ``!rencontre action``,
``!actions``, ``!action fait|annuler``, their reminders, the draft agenda's follow-up, every
refusal (which changes nothing), the person's data."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from commands.rhythm import ReminderRules
from commands.roles import Role
from tests.handlers.conftest import ALICE, COORDINATOR, Harness, make_club, plain, unchanged
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.fakes import Sent
from tests.handlers.rencontres import MAIN, NORTH

BOB = "@bob:example.org"
CAROL = "@carol:example.org"
STRANGER = "@eve:elsewhere.org"
PARIS = ZoneInfo("Europe/Paris")
TABLES = ("actions", "reminders", "audit_log", "outbox")


@pytest.fixture
def bot(build_bot: Callable[..., Harness]) -> Harness:
    club = replace(make_club(), coordinators=(COORDINATOR,),
                   reminders=ReminderRules(minutes_days=0, progress_weeks=0))
    harness = build_bot(club, main=MAIN, north=NORTH)
    harness.roles[STRANGER] = Role.VISITOR
    return harness


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


async def ask(bot: Harness, body: str, sender: str = COORDINATOR) -> str:
    return (await bot.reply_to(body, sender=sender)).replace("**", "")


async def refused(bot: Harness, body: str, sender: str = COORDINATOR) -> str:
    return await unchanged(bot.db, TABLES, body, ask(bot, body, sender=sender))


async def held(bot: Harness, organiser: str = "") -> None:
    """Rencontre n°1 on Tuesday 6 January 2099 at 18h (nord), and now the day after."""
    extra = f" --organisateur {organiser}" if organiser else ""
    await bot.command(f"!rencontre planifier demain 18h --territoire nord{extra}",
                      sender=COORDINATOR)
    bot.clock.set(paris(2099, 1, 7, 10))


async def run_until(bot: Harness, moment: datetime) -> list[Sent]:
    """The clock moved to ``moment``, the reminders' engine fired at each send time."""
    before = len(bot.transport.sent)
    engine = bot.job("reminders")
    while (pending := await engine.pending()) and pending[0][1] <= moment:
        bot.clock.set(max(pending[0][1], bot.clock.now()))
        await engine.fire()
        await bot.outbox.flush()
    bot.clock.set(moment)
    return bot.transport.sent[before:]


async def action_row(bot: Harness, number: int = 1):  # type: ignore[no-untyped-def]
    async with bot.db.transaction() as repos:
        action = await repos.actions.get(number)
        assert action is not None
        return action


async def test_a_member_s_action_is_listed_reminded_in_a_direct_message_then_done(
        bot: Harness) -> None:
    await held(bot)
    sent = await bot.command(f"!rencontre action 1 {BOB} Envoyer le devis à la mairie "
                             "--pour lundi 12 janvier", sender=COORDINATOR)
    assert len(sent) == 1  # BOB told (mentioned), besides the coordinator answered
    assert sent[0].content["m.mentions"] == {"user_ids": [BOB, COORDINATOR]}
    assert plain(sent[0]) == (
        f"Action n°1 notée par {COORDINATOR} (rencontre n°1) : « Envoyer le devis à la mairie » "
        f"— {BOB} pour le "
        "lundi 12 janvier 2099. Rappel en message privé le samedi 10 janvier 2099 à 9h. "
        "Une fois faite : `!action fait 1`.")
    action = await action_row(bot)
    assert (action.meeting_id, action.assignee, action.group_id, action.status) == (
        1, BOB, None, "ouverte")
    assert action.due_at == paris(2099, 1, 12, 18)
    listing = await ask(bot, "!actions", sender=ALICE)
    assert listing.startswith("Actions en cours : 1")
    assert (f"- n°1 Envoyer le devis à la mairie — {BOB} — pour le lundi 12 janvier 2099 — "
            "rencontre n°1") in listing
    assert await run_until(bot, paris(2099, 1, 10, 8, 59)) == []
    sent = await run_until(bot, paris(2099, 1, 10, 9, 1))
    assert bot.transport.direct == [(BOB, "!dm1:example.org")]
    assert [(s.room_id, plain(s)) for s in sent] == [("!dm1:example.org", (
        "⏰ Rappel : action n°1 « Envoyer le devis à la mairie » pour le lundi 12 janvier 2099 "
        f"(rencontre n°1, notée par {COORDINATOR}). Une fois faite : `!action fait 1`."))]
    assert "n'est pas chargée" not in await ask(bot, "!actions", sender=ALICE)
    assert "Seules la personne chargée" in await refused(bot, "!action fait 1", sender=CAROL)
    assert await ask(bot, "!action done 1", sender=BOB) == (
        "Action n°1 faite : « Envoyer le devis à la mairie ». Merci !")
    assert (await action_row(bot)).closed_by == BOB
    assert "déjà faite" in await refused(bot, "!action annuler 1")
    assert await ask(bot, "!actions", sender=ALICE) == (
        "Aucune action en cours. Elles se notent avec `!rencontre action`.")


async def test_a_closed_action_is_not_reminded(bot: Harness) -> None:
    await held(bot)
    await ask(bot, f"!meeting action 1 {BOB} Réserver la salle --by 20/01")
    assert await ask(bot, "!action cancel 1") == "Action n°1 annulée : « Réserver la salle »."
    assert await run_until(bot, paris(2099, 1, 25)) == []
    async with bot.db.transaction() as repos:
        assert await repos.reminders.count_pending() == 0


async def test_a_group_s_action_is_reminded_in_its_room_naming_its_referents(
        bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier vélo", sender=ALICE)
    await bot.command("!projet salon velo", sender=ALICE)
    group_room = bot.transport.created[0]["room_id"]
    await held(bot)
    reply = await ask(bot, "!rencontre action 1 velo Trouver un local --pour 15/01")
    assert "« Trouver un local » — le groupe Atelier vélo pour le jeudi 15 janvier 2099" in reply
    assert "Rappel dans le salon du groupe le mardi 13 janvier 2099 à 9h" in reply
    sent = await run_until(bot, paris(2099, 1, 13, 10))
    assert [s.room_id for s in sent] == [group_room]
    assert plain(sent[0]).startswith(f"Atelier vélo ({ALICE}) :\n⏰ Rappel : action n°1")
    assert sent[0].content["m.mentions"] == {"user_ids": [ALICE]}
    assert "n°1 Trouver un local" in await ask(bot, "!actions --groupe velo", sender=CAROL)
    assert "n°1 Trouver" in await ask(bot, "!actions --groupe velo --page 2", sender=CAROL)
    assert "Seules la personne chargée" in await refused(bot, "!action fait 1", sender=BOB)
    assert await ask(bot, "!action fait 1", sender=ALICE) == (  # the group's referent
        "Action n°1 faite : « Trouver un local ». Merci !")


async def test_the_organiser_records_actions_other_members_may_not(bot: Harness) -> None:
    await held(bot, organiser=ALICE)
    assert "Réservé à la coordination et à l'organisation de l'événement" in await refused(
        bot, f"!rencontre action 1 {BOB} Faire le compte", sender=BOB)
    assert "Pour @bob:example" in await refused(  # Bob did not say he would be there
        bot, f"!rencontre action 1 {BOB} Faire le compte", sender=ALICE)
    async with bot.db.transaction() as repos:
        await repos.meetings.set_rsvp(1, BOB, "present", bot.clock.now(), tz=PARIS)
    reply = await ask(bot, f"!rencontre action 1 {BOB} Faire le compte", sender=ALICE)
    assert reply.startswith(f"Action n°1 notée par {ALICE}")
    assert "Rappel" not in reply  # no due date, no reminder
    assert await ask(bot, "!action annuler 1", sender=ALICE) == (
        "Action n°1 annulée : « Faire le compte ».")


async def test_a_group_s_referents_record_actions_at_their_group_s_meeting(
        bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier vélo", sender=ALICE)
    await bot.command("!projet salon velo", sender=ALICE)
    await bot.command("!rencontre planifier demain 18h --groupe velo", sender=ALICE)
    await bot.command("!rencontre planifier demain 19h --territoire nord", sender=COORDINATOR)
    bot.clock.set(paris(2099, 1, 7, 10))
    assert "Pour @bob:example" in await refused(  # Bob is not in the group
        bot, f"!rencontre action 1 {BOB} Réparer la pompe", sender=ALICE)
    await bot.command("!projet rejoindre velo", sender=BOB)
    reply = await ask(bot, f"!rencontre action 1 {BOB} Réparer la pompe", sender=ALICE)
    assert reply.startswith("Action n°1 notée")
    assert "Réservé à la coordination" in await refused(  # not the club's meeting
        bot, f"!rencontre action 2 {BOB} Autre chose", sender=ALICE)
    assert (await action_row(bot)).meeting_id == 1


async def test_bad_input_gets_a_short_reply_and_changes_nothing(bot: Harness) -> None:
    await held(bot)
    await bot.command("!rencontre planifier vendredi 18h", sender=COORDINATOR)  # n°2, to come
    assert "pas de rencontre n°9" in await refused(bot, f"!rencontre action 9 {BOB} x")
    assert "n'a pas encore commencé" in await refused(bot, f"!rencontre action 2 {BOB} x")
    assert "inconnu" in await refused(bot, "!rencontre action 1 inconnu x")
    assert "n'est pas membre du club" in await refused(
        bot, f"!rencontre action 1 {STRANGER} Faire x")
    assert "passé" in await refused(bot, f"!rencontre action 1 {BOB} x --pour hier")
    assert "trop long" in await refused(bot, f"!rencontre action 1 {BOB} " + "x" * 501)
    assert "sans balises HTML" in await refused(bot, f"!rencontre action 1 {BOB} <b>x</b>")
    assert "n'est pas permis ici" in await refused(bot, f"!rencontre action 1 {BOB} @room x")
    assert "Il manque" in await refused(bot, f"!rencontre action 1 {BOB}")
    assert "pas d'action n°4" in await refused(bot, "!action fait 4")
    await bot.command("!rencontre annuler 2", sender=COORDINATOR)
    bot.clock.set(paris(2099, 1, 10, 10))
    assert "est annulée" in await refused(bot, f"!rencontre action 2 {BOB} x")


async def test_no_more_than_fifty_open_actions_an_event(bot: Harness) -> None:
    await held(bot)
    async with bot.db.transaction() as repos:
        for n in range(50):
            await repos.actions.add(meeting_id=1, assignee=BOB, group_id=None, text=f"a{n}",
                                    due_at=None, created_by=COORDINATOR,
                                    created_at=bot.clock.now())
    assert "déjà 50 actions en cours" in await refused(bot, f"!rencontre action 1 {BOB} x")


async def test_the_next_draft_agenda_opens_with_the_actions_to_follow_up(bot: Harness) -> None:
    await held(bot)
    await ask(bot, f"!rencontre action 1 {BOB} Envoyer le devis --pour 8/01")
    await ask(bot, f"!rencontre action 1 {CAROL} Écrire à la presse")
    await ask(bot, "!action fait 2")
    await bot.command("!rencontre planifier 20/01 18h --territoire nord", sender=COORDINATOR)
    bot.clock.set(paris(2099, 1, 9, 10))
    sent = await bot.command("!odj brouillon --rencontre 2", sender=COORDINATOR)
    draft = plain(sent[1])
    title, follow_up = draft.split("\n\n")[:2]
    assert title.startswith("Projet d'ordre du jour")
    assert follow_up == (f"Suivi des actions (1)\n- n°1 Envoyer le devis — {BOB} — pour le "
                         "jeudi 8 janvier 2099 (en retard) — rencontre n°1")


async def test_an_action_is_in_the_person_s_data_and_pseudonymised_on_erasure(
        bot: Harness) -> None:
    await held(bot)
    await ask(bot, f"!rencontre action 1 {ALICE} Envoyer le devis --pour 12/01")
    await bot.command("!mes-donnees", sender=ALICE)
    document = json.loads(bot.transport.uploads[-1][0])
    assert [row["text"] for row in document["tables"]["actions"]] == ["Envoyer le devis"]
    await bot.command("!oublier-moi", sender=ALICE)
    await bot.command("!oublier-moi confirmer", sender=ALICE)
    action = await action_row(bot)
    assert action.assignee is not None and action.assignee.startswith("anonyme-")
    assert action.text == "Envoyer le devis"  # written for the club by the coordinator
    assert await run_until(bot, paris(2099, 1, 11)) == []  # no reminder to no one


async def test_a_reminder_whose_direct_room_is_refused_is_told_in_the_event_s_room(
        bot: Harness) -> None:
    await held(bot)
    await ask(bot, f"!rencontre action 1 {BOB} Envoyer le devis --pour 12/01")
    bot.transport.fail_creation = True
    sent = await run_until(bot, paris(2099, 1, 10, 10))
    assert [s.room_id for s in sent] == [NORTH]
    assert plain(sent[0]) == (
        f"{BOB}, je n'ai pas pu vous écrire en message privé :\n⏰ Rappel : action n°1 « Envoyer "
        f"le devis » pour le lundi 12 janvier 2099 (rencontre n°1, notée par {COORDINATOR}). "
        "Une fois faite : `!action fait 1`.")
    assert sent[0].content["m.mentions"] == {"user_ids": [BOB]}


async def test_a_known_direct_room_is_used_again(bot: Harness) -> None:
    await held(bot)
    await ask(bot, f"!rencontre action 1 {BOB} Premier --pour 12/01")
    await ask(bot, f"!rencontre action 1 {BOB} Second --pour 13/01")
    sent = await run_until(bot, paris(2099, 1, 11, 10))
    assert [s.room_id for s in sent] == ["!dm1:example.org", "!dm1:example.org"]
    assert len(bot.transport.direct) == 1


async def test_a_group_s_reminder_mentions_at_most_fifty_referents(bot: Harness) -> None:
    await ask(bot, "!projet creer Atelier vélo", sender=ALICE)
    async with bot.db.transaction() as repos:
        for n in range(60):
            await repos.groups.add_member(1, f"@ref{n:02d}:example.org", bot.clock.now(),
                                          tz=PARIS, referent=True)
    await held(bot)
    await ask(bot, "!rencontre action 1 velo Trouver un local --pour 15/01")
    [sent] = await run_until(bot, paris(2099, 1, 13, 10))
    assert sent.room_id == MAIN  # the group has no room of its own
    assert len(sent.content["m.mentions"]["user_ids"]) == 50


async def test_a_referent_gives_actions_to_their_group_not_to_another_or_to_strangers(
        bot: Harness) -> None:
    """Someone who made a group of their own and held its meeting cannot have the bot remind
    another group, or anyone outside it, in its voice; the coordinators can."""
    await ask(bot, "!projet creer Atelier vélo", sender=ALICE)
    await bot.command("!projet salon velo", sender=ALICE)
    await ask(bot, "!projet creer Jardins partagés", sender=CAROL)
    await bot.command("!rencontre planifier demain 18h --groupe velo", sender=ALICE)
    bot.clock.set(paris(2099, 1, 7, 10))
    assert "Pour le groupe Jardins partagés" in await refused(
        bot, "!rencontre action 1 jardins Arroser --pour 15/01", sender=ALICE)
    assert "Pour @carol:example" in await refused(
        bot, f"!rencontre action 1 {CAROL} Arroser --pour 15/01", sender=ALICE)
    assert (await ask(bot, "!rencontre action 1 velo Trouver un local", sender=ALICE)
            ).startswith(f"Action n°1 notée par {ALICE}")
    assert (await ask(bot, f"!rencontre action 1 {CAROL} Arroser")).startswith(
        f"Action n°2 notée par {COORDINATOR}")


async def test_no_more_than_a_day_s_cap_of_actions_recorded_by_one_person(
        build_bot: Callable[..., Harness]) -> None:
    club = replace(make_club(), coordinators=(COORDINATOR,),
                   limits=replace(make_club().limits, actions_per_day=2))
    bot = build_bot(club, main=MAIN, north=NORTH)
    await held(bot, organiser=ALICE)
    for n in (1, 2):
        assert (await ask(bot, f"!rencontre action 1 {ALICE} Tâche {n}", sender=ALICE)
                ).startswith(f"Action n°{n} notée")
    assert "Limite atteinte : vous avez déjà noté 2 actions" in await refused(
        bot, f"!rencontre action 1 {ALICE} Tâche 3", sender=ALICE)
    assert (await ask(bot, f"!rencontre action 1 {ALICE} Tâche 3")).startswith(
        "Action n°3 notée")  # the coordinators have no cap


async def test_a_reminder_is_not_posted_in_a_direct_room_the_person_left(bot: Harness) -> None:
    await held(bot)
    await ask(bot, f"!rencontre action 1 {BOB} Premier --pour 12/01")
    await ask(bot, f"!rencontre action 1 {BOB} Second --pour 14/01")
    assert [s.room_id for s in await run_until(bot, paris(2099, 1, 10, 10))] == [
        "!dm1:example.org"]
    bot.matrix.left.add(("!dm1:example.org", BOB))
    sent = await run_until(bot, paris(2099, 1, 12, 10))
    assert bot.transport.direct == [(BOB, "!dm1:example.org"), (BOB, "!dm2:example.org")]
    assert [s.room_id for s in sent] == ["!dm2:example.org"]
    assert "action n°2 « Second »" in plain(sent[0])


# --- in the event's card ------------------------------------------------------------------------

async def test_the_events_card_lists_its_actions_paged_like_its_names(bot: Harness) -> None:
    await held(bot)
    assert "Actions décidées" not in await ask(bot, "!rencontre info 1")
    await bot.command("!projet creer Atelier vélo", sender=ALICE)
    await ask(bot, f"!rencontre action 1 {BOB} Envoyer le devis --pour 15/01")
    await ask(bot, "!rencontre action 1 velo Réserver la salle")
    await ask(bot, f"!rencontre action 1 {CAROL} Appeler la mairie --pour 8/01")
    await ask(bot, "!action fait 3", sender=CAROL)
    await ask(bot, f"!rencontre action 1 {BOB} Imprimer les affiches --pour 8/01")
    bot.clock.set(paris(2099, 1, 9, 10))  # the fourth is late now; the third was done
    card = await ask(bot, "!rencontre info 1", sender=BOB)
    assert card.split("Actions décidées (4) :\n")[1].splitlines() == [
        f"- n°1 Envoyer le devis — {BOB} — pour le jeudi 15 janvier 2099",
        "- n°2 Réserver la salle — le groupe Atelier vélo",
        f"- n°3 Appeler la mairie — {CAROL} — pour le jeudi 8 janvier 2099 — faite",
        f"- n°4 Imprimer les affiches — {BOB} — pour le jeudi 8 janvier 2099 (en retard)",
    ]
    for number in range(5, 36):  # 35 in all: 30 a page, as the names
        await bot.command(f"!rencontre action 1 {BOB} Tâche {number}", sender=COORDINATOR)
    first = await ask(bot, "!rencontre info 1", sender=BOB)
    assert "Actions décidées (35) :" in first and "- n°30 Tâche 30" in first
    assert "- n°31 " not in first and "`!rencontre info 1 --page 2`" in first
    second = await ask(bot, "!rencontre info 1 --page 2", sender=BOB)
    assert "- n°31 Tâche 31" in second and "- n°35 Tâche 35" in second
    assert "- n°30 " not in second
