"""Commands end to end without a homeserver: inbox -> dispatcher -> outbox -> fake transport."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands.context import Context
from commands.effects import Reply
from commands.errors import NotFound
from commands.i18n import catalog
from commands.params import Param
from commands.registry import Registry, command
from commands.roles import Role
from storage.db import Database
from storage.models import BotState
from tests.handlers.conftest import (
    ALICE,
    CHARTER,
    COORDINATOR,
    ROOM,
    VERSION,
    Harness,
    make_club,
    make_harness,
)
from tests.handlers.fakes import FakeTransport


async def test_ping_reply(bot: Harness) -> None:
    sent = await bot.command("!ping", age=timedelta(milliseconds=250), event_id="$ping1")
    assert len(sent) == 1
    reply = sent[0]
    assert reply.room_id == ROOM
    assert reply.event_type == "m.room.message"
    assert reply.content["msgtype"] == "m.notice"
    assert reply.content["body"] == f"pong — cct-bot {VERSION}, latence 250 ms"
    assert reply.content["m.relates_to"] == {"m.in_reply_to": {"event_id": "$ping1"}}
    assert reply.content["m.mentions"] == {"user_ids": [ALICE]}
    assert "<p>pong" in reply.content["formatted_body"]


async def test_ping_latency_follows_the_clock(bot: Harness) -> None:
    assert (await bot.reply_to("!ping", age=timedelta(seconds=2))).endswith("latence 2000 ms")
    # A message stamped in the future (clock skew) never gives a negative latency.
    assert (await bot.reply_to("!ping", age=timedelta(seconds=-3))).endswith("latence 0 ms")


async def test_help_lists_commands_in_french_with_sections(bot: Harness) -> None:
    body = await bot.reply_to("!aide")
    assert body.startswith("**Commandes du bot du Club Climat et Transition**")
    assert "**Pour commencer**" in body
    for line in ("- `!aide` — ", "- `!ping` — ", "- `!cadre` — "):
        assert line in body
    assert "!help" not in body


@pytest.mark.parametrize("body", ["!AIDE", "!Aidé", "!help", "!commandes", "  !aide  "])
async def test_help_by_any_name(bot: Harness, body: str) -> None:
    assert (await bot.reply_to(body)).startswith("**Commandes du bot")


async def test_help_detail(bot: Harness) -> None:
    body = await bot.reply_to("!aide ping")
    assert body.startswith("**!ping** — vérifier que le bot répond")
    assert "`!ping`" in body
    assert "pong" in body  # the command's long help
    assert (await bot.reply_to("!aide !PING")) == body


async def test_help_for_an_unknown_command(bot: Harness) -> None:
    body = await bot.reply_to("!aide nimportequoi")
    assert body.startswith("Pas de commande « nimportequoi »")


async def test_unknown_command_gets_a_suggestion(bot: Harness) -> None:
    body = await bot.reply_to("!aid")
    assert body.startswith("Commande inconnue")
    assert "`!aide`" in body and "Vouliez-vous dire" in body


async def test_wrong_call_gets_the_usage(bot: Harness) -> None:
    body = await bot.reply_to("!ping maintenant")
    assert body.startswith("Trop d'arguments : « maintenant ».")
    assert "Usage : `!ping`" in body
    assert "Détails : `!aide ping`" in body


async def test_charter(bot: Harness) -> None:
    body = await bot.reply_to("!cadre")
    assert body == (f"**Cadre de confiance — Club Climat et Transition**\n\n{CHARTER}\n\n"
                    "Pour adhérer à ce cadre (version 1) : un ✅ sur ce message, ou "
                    "`!cadre adherer`.")
    assert await bot.reply_to("!charte") == body


async def test_no_charter(db: Database, clock: FakeClock, transport: FakeTransport, outbox: Outbox,
                          registry: Registry) -> None:
    harness = make_harness(db, clock, transport, outbox, registry, make_club(charter=""))
    body = await harness.reply_to("!cadre")
    assert body.startswith("Le cadre de confiance n'a pas encore été renseigné")


async def test_reply_fallback_is_ignored(bot: Harness) -> None:
    body = await bot.reply_to("> <@bob:example.org> !aide\n\n!ping")
    assert body.startswith("pong")


async def test_non_commands_are_marked_handled_without_reply(bot: Harness) -> None:
    for text in ("bonjour", "!!", "! ping"):
        event_id = await bot.queue(text)
        await bot.dispatcher.handle(event_id)
    await bot.outbox.flush()
    assert bot.transport.sent == []
    async with bot.db.transaction() as repos:
        assert await repos.inbox.pending() == []


async def test_same_event_twice_gives_one_reply(bot: Harness) -> None:
    event_id = await bot.queue("!ping")
    await bot.dispatcher.handle(event_id)
    await bot.dispatcher.handle(event_id)
    await bot.outbox.flush()
    await bot.dispatcher.handle(event_id)
    await bot.outbox.flush()
    assert len(bot.transport.sent) == 1
    assert len(bot.transport.calls) == 1
    async with bot.db.transaction() as repos:
        row = await repos.inbox.get(event_id)
        assert row is not None and row.handled_at == bot.clock.now()


async def test_same_event_twice_after_an_error_gives_one_reply(bot: Harness) -> None:
    event_id = await bot.queue("!aid")
    await bot.dispatcher.handle(event_id)
    await bot.dispatcher.handle(event_id)
    await bot.outbox.flush()
    assert len(bot.transport.sent) == 1


async def test_unknown_event_is_ignored(bot: Harness) -> None:
    await bot.dispatcher.handle("$never-queued")
    await bot.outbox.flush()
    assert bot.transport.calls == []


def _add_test_commands(registry: Registry) -> None:
    @registry.add
    @command("boom", fr=("boom",), section="reports")
    async def boom(ctx: Context) -> Reply:
        await ctx.db().state.set("boom", "half-done")
        raise RuntimeError("détail secret <script>@room</script> password=hunter2")

    @registry.add
    @command("refus", fr=("refus",), section="reports")
    async def refus(ctx: Context) -> Reply:
        await ctx.db().state.set("refus", "half-done")
        raise NotFound("error.not_found")

    @registry.add
    @command("bancal", fr=("bancal",), section="reports")
    async def bancal(ctx: Context) -> Reply:
        await ctx.db().state.set("bancal", "half-done")
        ctx.db().session.add(BotState(key="bancal-sans-valeur"))  # NOT NULL: fails when written
        return Reply("jamais envoyé")

    @registry.add
    @command("note", fr=("note",), section="reports")
    async def note(ctx: Context) -> Reply:
        await ctx.db().state.set("note", ctx.sender)
        return Reply("noté")

    @registry.add
    @command("fermer", fr=("fermer",), section="reports", role=Role.COORDINATOR)
    async def fermer(ctx: Context) -> Reply:
        return Reply("fermé")

    @registry.add
    @command("casse", fr=("casse",), section="reports",
             params=(Param("what", Broken(), rest=True),))
    async def casse(ctx: Context, what: str) -> Reply:
        return Reply("jamais envoyé")


@dataclass(frozen=True)
class Broken:
    """A context converter that fails after writing (a bug in a lookup)."""

    kind: str = "text"

    async def convert(self, ctx: Context, raw: str) -> str:
        await ctx.db().state.set("casse", "half-done")
        raise RuntimeError("lookup bug")


@pytest.fixture
def registry(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """The bot's commands plus the test ones above (with catalog texts, restored afterwards)."""
    for language in ("fr", "en"):
        for key in ("boom", "refus", "bancal", "note", "fermer", "casse"):
            monkeypatch.setitem(catalog(language), f"cmd.{key}.summary", f"test {key}")
    _add_test_commands(registry)
    return registry


async def test_internal_error_has_a_reference_in_reply_and_log(
        bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    body = await bot.reply_to("!boom", event_id="$boom")
    match = re.fullmatch(r"Erreur interne \(réf\. ([0-9A-F]{6})\)\..*", body, re.DOTALL)
    assert match, body
    reference = match.group(1)
    assert "secret" not in body and "hunter2" not in body and "RuntimeError" not in body
    records = [r for r in caplog.records if reference in r.getMessage()]
    assert len(records) == 1
    record = records[0]
    assert "$boom" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "Traceback" in caplog.text and "hunter2" in caplog.text
    # The handler's half-done change was rolled back; the command is handled (not retried).
    async with bot.db.transaction() as repos:
        assert await repos.state.get("boom") is None
        assert await repos.inbox.pending() == []


async def test_a_converter_failing_is_an_internal_error_undone_like_a_handler(
        bot: Harness) -> None:
    body = await bot.reply_to("!casse quelque chose", event_id="$casse")
    assert body.startswith("Erreur interne (réf. ")
    async with bot.db.transaction() as repos:
        assert await repos.state.get("casse") is None
        assert await repos.inbox.pending() == []


async def test_a_change_the_database_refuses_after_the_handler_is_an_internal_error(
        bot: Harness) -> None:
    """What a handler left pending and the database refuses (here: a missing NOT NULL value)
    fails before its reply is queued: the user gets an internal error, nothing is kept, and the
    command is handled (not run again at every start)."""
    body = await bot.reply_to("!bancal", event_id="$bancal")
    assert body.startswith("Erreur interne (réf. ")
    async with bot.db.transaction() as repos:
        assert await repos.state.get("bancal") is None
        assert await repos.inbox.pending() == []


async def test_internal_error_references_differ(bot: Harness) -> None:
    first = await bot.reply_to("!boom")
    second = await bot.reply_to("!boom")
    assert first != second


async def test_user_error_rolls_back_the_handler_changes(bot: Harness) -> None:
    body = await bot.reply_to("!refus")
    assert body == "Introuvable."
    async with bot.db.transaction() as repos:
        assert await repos.state.get("refus") is None


async def test_changes_and_reply_committed_together(bot: Harness) -> None:
    assert await bot.reply_to("!note") == "noté"
    async with bot.db.transaction() as repos:
        assert await repos.state.get("note") == ALICE


async def test_coordinator_only_command(bot: Harness) -> None:
    body = await bot.reply_to("!fermer")
    assert body.startswith("Réservé à la coordination du club")
    assert await bot.reply_to("!fermer", sender=COORDINATOR) == "fermé"


async def test_coordinator_commands_hidden_from_participants_help(bot: Harness) -> None:
    assert "!fermer" not in await bot.reply_to("!aide")
    assert "!fermer" in await bot.reply_to("!aide", sender=COORDINATOR)
    # still explained, with who may use it
    assert await bot.reply_to("!aide fermer") == ("**!fermer** — test fermer\n\n`!fermer`\n\n"
                                                   "_Réservé à la coordination du club._")


async def test_user_text_never_comes_back_raw(bot: Harness) -> None:
    sent = await bot.command("!ping <script>alert(1)</script> @room")
    content = sent[0].content
    assert "<script" not in content["formatted_body"]
    assert "@room" not in content["body"]
    assert "room" not in content["m.mentions"]


async def test_resume_handles_queued_commands_in_order(bot: Harness) -> None:
    first = await bot.queue("!ping", event_id="$r1")
    await bot.queue("!cadre", event_id="$r2")
    await bot.queue("!aid", event_id="$r3")
    await bot.queue("!ping", event_id="$other", room_id="!other:example.org")
    await bot.dispatcher.handle(first)  # already handled before the "restart"
    assert await bot.dispatcher.resume() == 3
    await bot.dispatcher.drain()
    await bot.outbox.flush()
    in_room = [s.content["m.relates_to"]["m.in_reply_to"]["event_id"] for s in bot.transport.sent
               if s.room_id == ROOM]
    assert in_room == ["$r1", "$r2", "$r3"]
    assert len(bot.transport.bodies("!other:example.org")) == 1
    assert await bot.dispatcher.resume() == 0


async def test_coordinators_send_the_bot_out_of_a_room_but_not_out_of_a_club_room(
        bot: Harness) -> None:
    from dataclasses import replace

    other = "!autre:example.org"
    refused = await bot.reply_to("!quitter-salon", room_id=other)
    assert refused.startswith("Réservé à la coordination")
    assert bot.transport.left == []
    sent = await bot.command("!quitter-salon", sender=COORDINATOR, room_id=other)
    assert sent[0].content["body"].startswith("Je quitte ce salon.")
    assert bot.transport.left == [other]
    bot.dispatcher.club = replace(make_club(), rooms={"main": ROOM})
    assert "C'est un salon du club" in await bot.reply_to("!leave-room", sender=COORDINATOR)
    assert bot.transport.left == [other]


async def test_each_command_is_logged_once_with_its_facts_not_its_text(
        bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.dispatcher")
    await bot.reply_to("!ping", event_id="$p")
    await bot.reply_to("!projet info inconnu-secret", event_id="$r")
    await bot.reply_to("!boom", event_id="$b")
    assert await bot.command("bonjour, pas une commande", event_id="$t") == []
    handled = [r for r in caplog.records if r.getMessage() == "command handled"]
    facts = [(r.event, r.command, r.outcome, r.room) for r in handled]  # type: ignore[attr-defined]
    assert facts == [("$p", "ping", "ok", ROOM), ("$r", "projet.info", "refused", ROOM),
                     ("$b", "boom", "error", ROOM)]
    assert all(r.ms >= 0 for r in handled)  # type: ignore[attr-defined]
    assert "inconnu-secret" not in caplog.text  # what people write stays out of the log
