"""``!aide`` by role: each person sees the commands they may run (a group's referents and an
event's organiser theirs), is told in one line that others exist, and may still read the
detail of any command, with who may use it."""

from __future__ import annotations

from dataclasses import replace

from bot.clock import FakeClock
from commands.registry import Registry
from commands.roles import Role
from storage.db import Database
from tests.handlers.conftest import (
    ALICE,
    COORDINATOR,
    Harness,
    make_club,
    make_harness,
)
from tests.handlers.fakes import FakeTransport
from tests.handlers.rencontres import ORGANISER, held_event

BOB = "@bob:example.org"
KEPT_FOR_OTHERS = ("_D'autres commandes sont réservées aux référents des groupes-projets et à la "
                   "coordination : `!aide <commande>` les explique aussi._")
KEPT_FOR_COORDINATION = ("_D'autres commandes sont réservées à la coordination du club : "
                         "`!aide <commande>` les explique aussi._")


async def test_a_member_sees_only_the_commands_open_to_every_member(bot: Harness) -> None:
    index = await bot.reply_to("!aide", sender=BOB)
    assert "`!rencontre`" in index and "`!bilan`" not in index and "`!stats`" not in index
    assert KEPT_FOR_OTHERS in index
    meetings = await bot.reply_to("!aide rencontre", sender=BOB)
    assert "- `!rencontre present [n°]`" in meetings
    for kept in ("planifier", "reporter", "annuler", "presences", "compte-rendu", "action"):
        assert f"- `!rencontre {kept}" not in meetings, kept
    assert ("_Réservées aux référents des groupes-projets et à la coordination : `planifier`, "
            "`reporter`, `annuler`, `presences`") in meetings
    assert "(détail : `!aide rencontre planifier`)._" in meetings
    polls = await bot.reply_to("!aide sondage", sender=BOB)
    assert "- `!sondage dates" not in polls and "- `!sondage resultats [n°]`" in polls
    projects = await bot.reply_to("!aide projet", sender=BOB)
    assert "- `!projet statut" not in projects and "- `!projet rejoindre" in projects


async def test_a_coordinator_sees_everything_without_the_line(bot: Harness) -> None:
    index = await bot.reply_to("!aide", sender=COORDINATOR)
    assert "`!bilan`" in index and "`!quitter-salon`" in index and "D'autres commandes" not in index
    meetings = await bot.reply_to("!aide rencontre", sender=COORDINATOR)
    assert "- `!rencontre planifier <quand…>" in meetings and "Réservées" not in meetings


async def test_a_referent_sees_the_group_commands(bot: Harness) -> None:
    await bot.command("!projet creer Atelier vélo", sender=ALICE)  # its first referent
    index = await bot.reply_to("!aide", sender=ALICE)
    assert KEPT_FOR_COORDINATION in index and "`!bilan`" not in index
    meetings = await bot.reply_to("!aide rencontre", sender=ALICE)
    assert "- `!rencontre planifier <quand…>" in meetings
    assert "- `!rencontre action <n°>" in meetings
    assert "Réservées" not in meetings  # nothing of !rencontre is for coordinators alone
    projects = await bot.reply_to("!aide projet", sender=ALICE)
    assert "- `!projet statut <groupe> <statut…>`" in projects
    agenda = await bot.reply_to("!aide odj", sender=ALICE)
    assert "- `!odj publier" not in agenda
    assert "_Réservées à la coordination du club : `accepter`" in agenda
    assert "- `!rencontre planifier" not in await bot.reply_to("!aide rencontre", sender=BOB)


async def test_an_events_organiser_sees_what_an_organiser_may_do(bot: Harness) -> None:
    await held_event(bot)  # organised by Olga, a member
    meetings = await bot.reply_to("!aide rencontre", sender=ORGANISER)
    for allowed in ("presences", "modifier", "effectif", "invite", "feuille", "action"):
        assert f"- `!rencontre {allowed} " in meetings, allowed
    for kept in ("planifier", "reporter", "annuler", "compte-rendu"):
        assert f"- `!rencontre {kept} " not in meetings, kept
    assert ("_Réservées aux référents des groupes-projets et à la coordination : `planifier`, "
            "`reporter`, `annuler`, `compte-rendu` (détail : `!aide rencontre planifier`)._"
            ) in meetings
    assert KEPT_FOR_OTHERS in await bot.reply_to("!aide", sender=ORGANISER)


async def test_the_detail_of_a_command_kept_for_others_says_who_may(bot: Harness) -> None:
    report = await bot.reply_to("!aide bilan", sender=BOB)
    assert report.startswith("**!bilan** — le rapport pour l'ADEME")
    assert "`!bilan [période]" in report
    assert report.endswith("_Réservé à la coordination du club._")
    plan = await bot.reply_to("!aide rencontre planifier", sender=BOB)
    assert plan.startswith("**!rencontre planifier** — planifier un événement")
    assert "`!rencontre planifier <quand…> [--type <type>]" in plan
    assert "_Réservé aux référents du groupe et à la coordination._" in plan
    assert "Types d'événements (`--type`)" in plan
    attendance = await bot.reply_to("!aide Rencontre Présences", sender=BOB)
    assert attendance.endswith("_Réservé à la coordination, aux référents du groupe et à qui "
                               "organise l'événement._")
    joining = await bot.reply_to("!aide projet rejoindre", sender=BOB)
    assert joining.startswith("**!projet rejoindre** — rejoindre un groupe")
    assert "Réservé" not in joining


async def test_help_on_a_missing_subcommand(bot: Harness) -> None:
    assert await bot.reply_to("!aide rencontre nimporte", sender=BOB) == (
        "Pas de commande « rencontre nimporte ». Tapez `!aide` pour la liste.")
    assert (await bot.reply_to("!aide ping cadre", sender=BOB)).startswith("Pas de commande")
    assert (await bot.reply_to("!aide rencontre planifier encore", sender=BOB)).startswith(
        "Trop d'arguments")


async def test_a_visitor_reads_a_members_command_and_how_to_join(bot: Harness) -> None:
    bot.roles[BOB] = Role.VISITOR
    text = await bot.reply_to("!aide projet", sender=BOB)
    assert text.startswith("**!projet** — les groupes-projets du club")
    assert "- `!projet rejoindre" not in text and "Réservées" not in text
    assert text.endswith("demandez à la coordination de vous inviter dans le salon du club.")
    index = await bot.reply_to("!aide", sender=BOB)
    assert "`!projet`" not in index and "D'autres commandes" not in index


async def test_help_by_role_in_english(db: Database, clock: FakeClock,
                                       transport: FakeTransport, outbox: object,
                                       registry: Registry) -> None:
    bot = make_harness(db, clock, transport, outbox, registry,  # type: ignore[arg-type]
                       replace(make_club(), language="en"))
    index = await bot.reply_to("!help", sender=BOB)
    assert ("_Other commands are kept for the project groups' referents and the coordinators: "
            "`!help <command>` explains them too._") in index
    meetings = await bot.reply_to("!help meeting", sender=BOB)
    assert "- `!meeting plan" not in meetings
    assert ("_Kept for the project groups' referents and the coordinators: `plan`, `reschedule`"
            ) in meetings
    plan = await bot.reply_to("!help meeting plan", sender=BOB)
    assert plan.startswith("**!meeting plan** — ")
    assert "_Only for the group's referents and the coordinators._" in plan
    assert (await bot.reply_to("!help report", sender=BOB)).endswith(
        "_Only for the club's coordinators._")
