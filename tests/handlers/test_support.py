"""Comments on polls, co-signed remontées and the adoption of the cadre de confiance, end to end
without a homeserver (real SQLite and PostgreSQL): by command, by reaction or thread reply, with
their bounds, and what an attacker with a Matrix account cannot make them do."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bot.effects import queue_effects
from bot.jobs import start_work
from commands import charter
from commands.agenda import cosign
from commands.agenda.remontees import export_markdown
from commands.context import Club, Place
from commands.effects import effect_txn
from commands.events import PollResponse, Reaction, Redaction, RoomEvents, ThreadMessage
from commands.i18n import Translator
from commands.jobs import ARRIVALS
from commands.meta import welcome
from commands.polls import comments, render, service
from commands.polls.render import COMMENTS_SHOWN
from commands.report_settings import IndicatorSpec
from commands.reports.erasure import purge_messages
from commands.roles import Role
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness, make_club
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)
from tests.handlers.seed_year import PARIS
from tests.handlers.test_personal_data import forget
from tests.handlers.test_polls import open_poll, said

BOB, CAROL, DAN = "@bob:example.org", "@carol:example.org", "@dan:example.org"
VISITOR = "@stranger:elsewhere.org"
OTHER_ROOM = "!other:example.org"
T = Translator("fr")
BATCHES = itertools.count(1)


async def consume(bot: Harness, consumer: object, events: RoomEvents,
                  club: Club | None = None) -> list[object]:
    """What a capability's consumer makes of a sync batch's room events, in one transaction,
    its effects queued as the sync loop queues them (then sent)."""
    async with bot.db.transaction() as repos:
        effects = await consumer(repos, events, club or make_club(), T)  # type: ignore[operator]
        await queue_effects(repos, effects, f"sync-{next(BATCHES)}", bot.clock.now())
    await bot.outbox.flush()
    return effects


async def results(bot: Harness, number: int = 1) -> str:
    return await said(bot, f"!sondage resultats {number}")


# --- comments -----------------------------------------------------------------------------------

async def test_a_comment_by_command_shows_with_the_results_and_in_the_poll_message(
        bot: Harness) -> None:
    sent = await open_poll(bot)
    root = sent[1]
    reply = await bot.command("!commenter 1 Le samedi arrange les familles", sender=BOB)
    assert reply[0].content["body"] == ("Commentaire ajouté au sondage n°1 : il s'affiche avec "
                                        "ses résultats.")
    edit = reply[-1]  # the poll's message, edited with it
    assert edit.content["m.relates_to"] == {"rel_type": "m.replace", "event_id": root.event_id}
    assert "Le samedi arrange les familles" in edit.content["m.new_content"]["body"]
    shown = await results(bot)
    assert "Commentaires (1)" in shown
    assert shown.endswith("Commentaires (1)\n- @bob:example.org : Le samedi arrange les familles")
    async with bot.db.transaction() as repos:
        assert BOB in await repos.participants.active_in(2099)  # commenting is taking part


async def test_comment_bounds_length_count_markup_and_closed_polls(bot: Harness) -> None:
    await open_poll(bot)
    for index in range(make_club().limits.comments_per_poll):
        await bot.command(f"!commenter 1 avis {index}", sender=BOB)
    refused = await said(bot, "!commenter 1 encore un", sender=BOB)
    assert refused.startswith("Vous avez déjà laissé 5 commentaires sur le sondage n°1")
    assert "1000" in await said(bot, "!commenter 1 " + "x" * 1001, sender=CAROL)
    async with bot.db.transaction() as repos:
        assert await repos.comments.count(1) == 5  # the refused ones recorded nothing
    shown = await results(bot)
    assert shown.count("- @bob") == COMMENTS_SHOWN
    await bot.command("!sondage cloturer 1", sender=COORDINATOR)
    closed = await said(bot, "!commenter 1 trop tard", sender=CAROL)
    assert closed == "Le sondage n°1 est clos : on ne peut plus le commenter."


async def test_comment_text_never_pings_nor_renders_html(bot: Harness) -> None:
    await open_poll(bot)
    assert "room » n'est pas permis ici" in await said(bot, "!commenter 1 @room venez",
                                                        sender=BOB)
    assert "sans balises HTML" in await said(bot, "!commenter 1 <b>gras</b>", sender=BOB)
    async with bot.db.transaction() as repos:
        assert await repos.comments.count(1) == 0
    sent = await open_poll(bot)  # poll 2: a thread reply carries any text: shown inert
    await consume(bot, comments.record_thread_comments, RoomEvents(thread_messages=[
        ThreadMessage("$t1", ROOM, BOB, sent[1].event_id,
                      "@room <b>gras</b> [lien](https://x.example) @alice:example.org", bot.clock.now())]))
    async with bot.db.transaction() as repos:
        poll = await repos.polls.get(2)
        assert poll is not None
        text = await service.message(repos, poll, make_club(), T)
    assert "@\u2060room" in text and "<b>" not in text and "\\<b\\>" in text
    assert "\\[lien\\]" in text
    await bot.outbox.flush()
    new = bot.transport.sent[-1].content["m.new_content"]  # the poll's message, edited
    assert new.get("m.mentions", {"user_ids": []}) == {"user_ids": []}  # nobody notified
    assert "<b>" not in new["formatted_body"] and "@\u2060room" in new["body"]


async def test_a_reply_in_the_poll_thread_is_a_comment_and_its_redaction_removes_it(
        bot: Harness) -> None:
    sent = await open_poll(bot)
    root, first_slot = sent[1], sent[2]
    at = bot.clock.now()
    effects = await consume(bot, comments.record_thread_comments, RoomEvents(thread_messages=[
        ThreadMessage("$t1", ROOM, BOB, root.event_id, "> <@x:y> cité\n\nJe préfère mardi", at),
        ThreadMessage("$t2", ROOM, CAROL, first_slot.event_id, "pas la racine", at),
        ThreadMessage("$t3", OTHER_ROOM, CAROL, root.event_id, "autre salon", at),
        ThreadMessage("$t4", ROOM, CAROL, "$unknown", "autre fil", at),
        ThreadMessage("$t1", ROOM, BOB, root.event_id, "Je préfère mardi", at),  # seen again
    ]))
    assert len(effects) == 1  # one edit of the poll's message
    async with bot.db.transaction() as repos:
        [comment] = await repos.comments.latest(1, 10)
        assert (comment.author, comment.text, comment.event_id) == (BOB, "Je préfère mardi", "$t1")
    assert "Je préfère mardi" in await results(bot)
    # Someone else's redaction naming it does nothing; its author's removes it.
    await consume(bot, comments.record_thread_comments,
                  RoomEvents(redactions=[Redaction("$x", ROOM, CAROL, "$t1")]))
    async with bot.db.transaction() as repos:
        assert await repos.comments.count(1) == 1
    await consume(bot, comments.record_thread_comments,
                  RoomEvents(redactions=[Redaction("$y", ROOM, BOB, "$t1")]))
    async with bot.db.transaction() as repos:
        assert await repos.comments.count(1) == 0
    assert "Commentaires" not in await results(bot)


async def test_a_comment_taken_back_long_after_the_close_edits_no_purged_message(
        bot: Harness) -> None:
    """A poll closed long ago has no message left to edit (the messages purge took it): the
    comment its author takes back is removed, and no edit naming a purged message is queued
    (it would wait a day, then be reported to the coordination as abandoned)."""
    from tests.handlers.conftest import retaining

    sent = await open_poll(bot)
    at = bot.clock.now()
    await consume(bot, comments.record_thread_comments, RoomEvents(thread_messages=[
        ThreadMessage("$t1", ROOM, BOB, sent[1].event_id, "Je préfère mardi", at)]))
    assert (await said(bot, "!sondage cloturer 1", sender=COORDINATOR)).startswith("Je clos")
    job = bot.job("retention", retaining(730, 30))
    bot.clock.advance(timedelta(days=31))
    [(item, due)] = await job.pending()
    bot.clock.set(due)
    await job.fire(item)
    effects = await consume(bot, comments.record_thread_comments,
                            RoomEvents(redactions=[Redaction("$y", ROOM, BOB, "$t1")]))
    assert effects == []
    async with bot.db.transaction() as repos:
        assert await repos.comments.count(1) == 0
        assert list(await repos.outbox.pending()) == []


async def test_a_flood_of_thread_replies_is_bounded(bot: Harness) -> None:
    sent = await open_poll(bot)
    at = bot.clock.now()
    flood = [ThreadMessage(f"$f{i}", ROOM, BOB, sent[1].event_id, "x" * 5000, at)
             for i in range(200)]
    await consume(bot, comments.record_thread_comments, RoomEvents(thread_messages=flood))
    async with bot.db.transaction() as repos:
        kept = await repos.comments.latest(1, 100)
    assert len(kept) == make_club().limits.comments_per_poll
    assert {len(c.text) for c in kept} == {comments.TEXT_MAX}
    shown = await results(bot)
    assert shown.count("- @bob") == COMMENTS_SHOWN and len(shown) < 6000


async def test_comment_authors_are_hidden_on_an_anonymous_poll() -> None:
    assert service.comment_authors_shown(SimpleNamespace(anonymous=False))  # type: ignore[arg-type]
    assert not service.comment_authors_shown(SimpleNamespace(anonymous=True))  # type: ignore[arg-type]
    text = render.comments([(None, "sans nom"), (None, "autre")], 7, T)
    assert text.splitlines() == ["**Commentaires (7)**", "- sans nom", "- autre",
                                 "_… et 5 commentaires plus anciens._"]


async def test_visitors_cannot_comment(bot: Harness) -> None:
    await open_poll(bot)
    bot.roles[VISITOR] = Role.VISITOR
    assert "Réservé aux membres du club" in await said(bot, "!commenter 1 coucou", sender=VISITOR)


# --- co-signed remontées ------------------------------------------------------------------------

async def raise_one(bot: Harness, author: str = ALICE) -> str:
    """A remontée by ``author``; the event id of the bot's confirmation."""
    sent = await bot.command("!remontee Un abri vélo à la gare", sender=author)
    assert "Pour la soutenir : un 👍 sur ce message" in sent[0].content["body"]
    return sent[0].event_id


async def test_supporting_a_remontee_by_command(bot: Harness) -> None:
    await raise_one(bot)
    assert await said(bot, "!remontee soutenir 1", sender=BOB) == (
        "Vous soutenez la remontée n°1 (1 soutien).")
    assert await said(bot, "!feedback support 1", sender=CAROL) == (
        "Vous soutenez la remontée n°1 (2 soutiens).")
    assert "est la vôtre" in await said(bot, "!remontee soutenir 1", sender=ALICE)
    assert "Vous soutenez déjà" in await said(bot, "!remontee soutenir 1", sender=BOB)
    assert "Pas de remontée n°9" in await said(bot, "!remontee soutenir 9", sender=BOB)
    listing = await said(bot, "!remontee liste", sender=DAN)
    assert "- n°1 Un abri vélo à la gare — 2 soutiens" in listing
    assert await said(bot, "!remontee retirer-soutien 1", sender=BOB) == (
        "Soutien à la remontée n°1 retiré.")
    assert "ne souteniez pas" in await said(bot, "!remontee retirer-soutien 1", sender=BOB)
    await bot.command("!remontee reponse 1 Étudié au conseil de mars", sender=COORDINATOR)
    assert "déjà reçu sa réponse" in await said(bot, "!remontee soutenir 1", sender=DAN)
    async with bot.db.transaction() as repos:
        assert await repos.remontees.support_counts() == {1: 1}
        entries = await repos.audit.entries("remontee", 1, limit=50)
    assert sorted((e.actor, e.action) for e in entries if e.action.endswith("supported")) == [
        (BOB, "unsupported"), (CAROL, "supported")]


async def test_a_thumbs_up_on_the_confirmation_supports_and_its_removal_withdraws(
        bot: Harness) -> None:
    confirmation = await raise_one(bot)
    other = await bot.command("!aide", sender=BOB)  # another message of the bot
    at = bot.clock.now()
    await consume(bot, cosign.record_supports, RoomEvents(reactions=[
        Reaction("$r1", ROOM, BOB, confirmation, "👍", at),
        Reaction("$r2", ROOM, CAROL, confirmation, "👍🏽", at),
        Reaction("$r3", ROOM, ALICE, confirmation, "👍", at),  # the author's own
        Reaction("$r4", ROOM, DAN, confirmation, "🎉", at),  # not a support
        Reaction("$r5", ROOM, DAN, other[0].event_id, "👍", at),  # not a confirmation
        Reaction("$r6", OTHER_ROOM, DAN, confirmation, "👍", at),  # named from another room
        Reaction("$r7", ROOM, BOB, confirmation, "+1", at),  # twice: once
    ]))
    async with bot.db.transaction() as repos:
        assert await repos.remontees.support_counts() == {1: 2}
    assert "Vous soutenez déjà" in await said(bot, "!remontee soutenir 1", sender=BOB)
    # Dan's redaction naming Bob's 👍 does nothing (not his, no right to redact); Bob's does.
    await consume(bot, cosign.record_supports, RoomEvents(redactions=[
        Redaction("$x", ROOM, DAN, "$r1"), Redaction("$y", OTHER_ROOM, BOB, "$r1")]))
    async with bot.db.transaction() as repos:
        assert await repos.remontees.support_counts() == {1: 2}
    await consume(bot, cosign.record_supports,
                  RoomEvents(redactions=[Redaction("$z", ROOM, BOB, "$r1")]))
    async with bot.db.transaction() as repos:
        assert await repos.remontees.support_counts() == {1: 1}
        active = await repos.participants.active_in(2099)
    assert {BOB, CAROL} <= active and DAN not in active  # a support is taking part


async def test_the_council_digest_shows_the_number_of_supporters(bot: Harness) -> None:
    await raise_one(bot)
    for who in (BOB, CAROL, DAN):
        await bot.command("!remontee soutenir 1", sender=who)
    async with bot.db.transaction() as repos:
        rows = await repos.remontees.listing()
        supports = await repos.remontees.support_counts()
    digest = export_markdown(rows, T, "CCT", bot.clock.now(), PARIS, supports)
    assert "- **n°1** (lundi 5 janvier 2099) : Un abri vélo à la gare\n  3 membres la soutiennent" in (
        digest)


# --- the cadre de confiance ---------------------------------------------------------------------

def with_main(version: str = "1") -> Club:
    return replace(make_club(), rooms={"main": ROOM}, charter_version=version)


async def test_adopting_the_charter_by_command_and_the_coordinators_list(bot: Harness) -> None:
    shown = await said(bot, "!cadre", sender=BOB)
    assert shown.endswith("Pour adhérer à ce cadre (version 1) : un ✅ sur ce message, ou "
                          "`!cadre adherer`.")
    assert await said(bot, "!cadre adherer", sender=BOB) == (
        "Merci ! Votre adhésion au cadre de confiance (version 1) est enregistrée.")
    assert await said(bot, "!charter adopt", sender=CAROL) == (
        "Merci ! Votre adhésion au cadre de confiance (version 1) est enregistrée.")
    assert (await said(bot, "!cadre adherer", sender=BOB)).startswith(
        "Vous avez déjà adhéré au cadre de confiance (version 1, le lundi 5 janvier 2099)")
    listing = await said(bot, "!cadre adhesions", sender=COORDINATOR)
    assert listing.startswith("2 membres ont adhéré au cadre de confiance (version 1)")
    assert "@bob:example.org" in listing and "@carol:example.org" in listing
    assert "Réservé à la coordination" in await said(bot, "!cadre adhesions", sender=BOB)
    bot.roles[VISITOR] = Role.VISITOR
    assert "Réservé aux membres du club" in await said(bot, "!cadre adherer", sender=VISITOR)
    bot.places["!partners:elsewhere.org"] = Place.OTHER
    assert "nomme des membres" in await said(bot, "!cadre adhesions", sender=COORDINATOR,
                                             room_id="!partners:elsewhere.org")


async def test_a_visitors_charter_is_shown_but_not_kept_as_a_message_to_adopt(
        bot: Harness) -> None:
    """Only a club member adopts: the bot keeps (for good, with its message) only the charters
    it shows to members, so a stranger repeating ``!cadre`` grows nothing."""
    bot.roles[VISITOR] = Role.VISITOR
    bot.places["!partners:elsewhere.org"] = Place.OTHER
    for _ in range(3):
        assert "Bienveillance" in await said(bot, "!cadre", sender=VISITOR,
                                             room_id="!partners:elsewhere.org")
    await said(bot, "!cadre", sender=BOB)
    async with bot.db.transaction() as repos:
        assert len(await repos.charter.posts_of("1")) == 1


async def test_every_charter_answer_adopts_and_replaced_ones_go_with_the_retention_purge(
        bot: Harness) -> None:
    """A ✅ on any ``!cadre`` answer to a member adopts, though that member asked again since;
    of a member's answers in a room, the latest is kept whatever its age (asking again and
    again keeps no more messages for good), the replaced ones go with the retention purge
    (their messages with them); erasing a member deletes theirs."""
    first = (await bot.command("!cadre", sender=BOB))[0].event_id
    for _ in range(3):
        bot.clock.advance(timedelta(minutes=1))
        latest = (await bot.command("!cadre", sender=BOB))[0].event_id
    await said(bot, "!cadre", sender=CAROL)
    bot.places[OTHER_ROOM] = Place.OTHER
    await bot.command("!cadre", sender=BOB, room_id=OTHER_ROOM)
    async with bot.db.transaction() as repos:
        assert len(await repos.charter.posts_of("1")) == 3  # Bob's latest in each room, Carol's
    at = bot.clock.now()
    await consume(bot, charter.record_adoptions, RoomEvents(reactions=[
        Reaction("$old", ROOM, CAROL, first, "✅", at)]))
    async with bot.db.transaction() as repos:
        assert [row.user_id for row in await repos.charter.adoptions()] == [CAROL]
        await purge_messages(repos, make_club(), at + timedelta(days=400), timedelta(days=365))
    await consume(bot, charter.record_adoptions, RoomEvents(reactions=[
        Reaction("$gone", ROOM, DAN, first, "✅", at), Reaction("$new", ROOM, BOB, latest, "✅", at)]))
    async with bot.db.transaction() as repos:
        assert sorted(row.user_id for row in await repos.charter.adoptions()) == [BOB, CAROL]
        assert len(await repos.charter.posts_of("1")) == 3
        assert await repos.outbox.txn_of(first, ROOM) is None  # the replaced message purged
    await forget(bot, BOB)
    async with bot.db.transaction() as repos:
        assert len(await repos.charter.posts_of("1")) == 1  # Carol's


async def test_a_check_mark_on_the_charter_adopts_it_and_nowhere_else(bot: Harness) -> None:
    charter_message = (await bot.command("!cadre", sender=BOB))[0].event_id
    other = (await bot.command("!aide", sender=BOB))[0].event_id
    at = bot.clock.now()
    await consume(bot, charter.record_adoptions, RoomEvents(reactions=[
        Reaction("$a1", ROOM, BOB, charter_message, "✅", at),
        Reaction("$a2", ROOM, CAROL, other, "✅", at),  # not the charter
        Reaction("$a3", OTHER_ROOM, DAN, charter_message, "✅", at),  # named from elsewhere
        Reaction("$a4", ROOM, DAN, charter_message, "👍", at),  # not a ✅
        Reaction("$a5", ROOM, ALICE, charter_message, "✔️", at),
    ]))
    async with bot.db.transaction() as repos:
        adopted = {row.user_id: (row.version, row.reaction_event_id)
                   for row in await repos.charter.adoptions()}
    assert adopted == {BOB: ("1", "$a1"), ALICE: ("1", "$a5")}
    # Removing the ✅ withdraws it; someone else's redaction naming it does nothing.
    await consume(bot, charter.record_adoptions, RoomEvents(redactions=[
        Redaction("$x", ROOM, CAROL, "$a1", may_redact=True)]))
    async with bot.db.transaction() as repos:
        assert len(await repos.charter.adoptions()) == 2
    await consume(bot, charter.record_adoptions,
                  RoomEvents(redactions=[Redaction("$y", ROOM, BOB, "$a1")]))
    async with bot.db.transaction() as repos:
        assert [row.user_id for row in await repos.charter.adoptions()] == [ALICE]


async def test_the_report_counts_who_adopted_the_charter_in_the_period(bot: Harness) -> None:
    """The indicator ``charter_adoptions`` (not a default one: given in ``[report.indicators]``):
    the people whose adoption, their latest and not withdrawn, falls in the period, in the
    club's time zone; ``!stats`` and ``!bilan`` say it."""
    club = bot.dispatcher.club
    bot.dispatcher.club = replace(club, report=replace(club.report, indicators=(
        IndicatorSpec("cadre", "Adhésions au cadre de confiance", "charter_adoptions",
                      target_per_year=4),)))
    bot.clock.set(datetime(2098, 12, 31, 22, 30, tzinfo=UTC))  # 23:30 in Paris: 2098's
    for who in (DAN, BOB):
        await said(bot, "!cadre adherer", sender=who)
    bot.clock.set(datetime(2099, 1, 5, 9, tzinfo=UTC))
    await said(bot, "!cadre adherer", sender=CAROL)
    shown = (await bot.command("!cadre", sender=ALICE))[0].event_id
    await consume(bot, charter.record_adoptions, RoomEvents(reactions=[
        Reaction("$c1", ROOM, ALICE, shown, "✅", bot.clock.now())]))
    line = "- Adhésions au cadre de confiance : "
    stats = await said(bot, "!stats 2099", sender=COORDINATOR)
    assert f"{line}2 (objectif 4, 50 %)" in stats, stats  # Carol, Alice
    bot.dispatcher.club = replace(bot.dispatcher.club, charter_version="2")
    await said(bot, "!cadre adherer", sender=BOB)  # his latest adoption: 2099's now
    stats = await said(bot, "!stats 2099", sender=COORDINATOR)
    assert f"{line}3 (objectif 4, 75 %)" in stats, stats  # Carol, Alice, Bob
    stats = await said(bot, "!stats 2098", sender=COORDINATOR)
    assert f"{line}1 (objectif 4, 25 %)" in stats, stats  # Dan
    await consume(bot, charter.record_adoptions,  # Alice takes her ✅ back: withdrawn
                  RoomEvents(redactions=[Redaction("$r1", ROOM, ALICE, "$c1")]))
    summary = await said(bot, "!bilan 2099", sender=COORDINATOR)
    assert f"{line}2 (objectif 4, 50 %)" in summary, summary  # Carol, Bob


async def test_the_welcome_invites_to_adopt_and_a_check_mark_on_it_adopts(bot: Harness) -> None:
    text = welcome(T, make_club(), [BOB], charter.configured(make_club())).markdown
    assert text.index("Notre cadre de confiance") < text.index(
        "Pour adhérer au cadre de confiance : un ✅ sur ce message, ou `!cadre adherer`.")
    many = welcome(T, make_club(), [BOB, CAROL],
                   charter.configured(make_club())).markdown
    assert "un ✅ sur ce message" in many
    assert "adhérer" not in welcome(T, replace(make_club(), charter=""), [BOB], None).markdown
    async with bot.db.transaction() as repos:
        await repos.welcomes.first_time(BOB, ROOM, bot.clock.now())
    bot.clock.advance(timedelta(seconds=2))
    await bot.job(ARRIVALS).fire()  # the welcomes' job as the bot runs it
    await bot.outbox.flush()
    [greeted] = [s for s in bot.transport.sent if "Bienvenue" in str(s.content.get("body"))]
    await consume(bot, charter.record_adoptions, RoomEvents(reactions=[
        Reaction("$w1", ROOM, BOB, greeted.event_id, "✅", bot.clock.now())]))
    async with bot.db.transaction() as repos:
        assert [row.user_id for row in await repos.charter.adoptions()] == [BOB]


async def test_a_new_version_asks_those_of_an_older_one_once_in_the_main_room(
        bot: Harness) -> None:
    async with bot.db.transaction() as repos:
        assert await charter.charter_version_adopted(repos, with_main(), T, "1",
                                                     bot.clock.now()) == []  # nobody to ask
        for who in (BOB, CAROL):
            await repos.charter.adopt(who, "1", bot.clock.now())
        await repos.people.set_mentions(CAROL, True, bot.clock.now())
    async with bot.db.transaction() as repos:
        [post] = await charter.charter_version_adopted(repos, with_main("2"), T, "2",
                                                       bot.clock.now())
        assert await charter.charter_version_adopted(repos, with_main("2"), T, "2",
                                                     bot.clock.now()) == []  # once
    assert post.room_id == ROOM  # type: ignore[attr-defined]
    body = post.reply.markdown  # type: ignore[attr-defined]
    assert body.startswith("**Le cadre de confiance du Club Climat et Transition a changé "
                           "(version 2).** 2 personnes avaient adhéré à une version antérieure")
    assert "1. Bienveillance." in body
    assert post.reply.mentions == (CAROL,)  # type: ignore[attr-defined]  (Bob did not opt in)
    # A ✅ on it adopts version 2; a ✅ on a message of version 1 no longer adopts anything.
    old = (await bot.command("!cadre", sender=DAN))[0].event_id  # version 1's message
    bot.dispatcher.club = with_main("2")
    async with bot.db.transaction() as repos:  # the ask, queued as the start work queues it
        await repos.outbox.add(txn_id=effect_txn(post.key),  # type: ignore[attr-defined]
                               room_id=ROOM, content={"body": body}, created_at=bot.clock.now())
    await bot.outbox.flush()
    ask = bot.transport.sent[-1].event_id
    await consume(bot, charter.record_adoptions, RoomEvents(reactions=[
        Reaction("$n1", ROOM, BOB, ask, "✅", bot.clock.now()),
        Reaction("$n2", ROOM, DAN, old, "✅", bot.clock.now())]), with_main("2"))
    async with bot.db.transaction() as repos:
        versions = {row.user_id: row.version for row in await repos.charter.adoptions()}
    assert versions == {BOB: "2", CAROL: "1"}
    listing = await said(bot, "!cadre adhesions", sender=COORDINATOR)
    assert listing.startswith("1 membre a adhéré au cadre de confiance (version 2)")
    assert "Adhésions à une version antérieure (1)" in listing


async def test_the_new_version_is_asked_at_start(bot: Harness) -> None:
    async with bot.db.transaction() as repos:
        await repos.charter.adopt(BOB, "1", bot.clock.now())
        await repos.state.set(charter.VERSION_STATE, "1")
    await start_work(bot.dispatcher.registry, bot.db, bot.outbox, with_main("2"), bot.matrix,
                     bot.clock.now())
    await bot.outbox.flush()
    asks = [s for s in bot.transport.sent if "a changé (version 2)" in str(s.content.get("body"))]
    assert len(asks) == 1 and asks[0].room_id == ROOM
    await start_work(bot.dispatcher.registry, bot.db, bot.outbox, with_main("2"), bot.matrix,
                     bot.clock.now() + timedelta(minutes=5))
    await bot.outbox.flush()
    assert len([s for s in bot.transport.sent
                if "a changé (version 2)" in str(s.content.get("body"))]) == 1



async def test_room_events_holding_control_characters_are_consumed_without_them(
        bot: Harness) -> None:
    """A thread reply, a reaction, a redaction and a native poll answer whose text or ids hold
    NUL (refused by PostgreSQL) or another control character: every consumer of the registry
    takes them as the sync hands them over, without a database error; the comment is kept
    without them, the ids naming nothing are ignored."""
    sent = await open_poll(bot)
    root = sent[1].event_id
    at = bot.clock.now()
    events = RoomEvents(
        thread_messages=[ThreadMessage("$t1", ROOM, BOB, root, "Je pré\x00fère\x01 mardi", at),
                         ThreadMessage("$t2", ROOM, BOB, root + "\x00", "autre fil", at)],
        reactions=[Reaction("$r1", ROOM, BOB, root + "\x00", "👍\x00", at),
                   Reaction("$r2", ROOM, BOB, "\x00" * 300, "\ud800", at)],
        redactions=[Redaction("$x1", ROOM, BOB, "$t1\x00")])
    registry = bot.dispatcher.registry
    async with bot.db.transaction() as repos:
        for consumer in registry.consumers:
            await consumer(repos, events, make_club(), T)
        for answers in registry.poll_answers:
            await answers(repos, [PollResponse("$v1", ROOM, BOB, at, sent[2].event_id + "\x00",
                                               ("yes\x00",))], make_club(), T)
    async with bot.db.transaction() as repos:
        [comment] = await repos.comments.latest(1, 10)
        assert (comment.text, comment.event_id) == ("Je préfère mardi", "$t1")
    assert events.reactions[0].key == "👍" and events.reactions[0].target == ""
    assert events.reactions[1].key == "" and events.thread_messages[1].root == ""
