"""What a person sees in Element (the JS SDK with its Rust crypto and its thread model, on a real
Synapse, in an encrypted room): a command typed in a thread is answered in that thread, the
poll events parse with the SDK's own poll model and its votes are counted, pills show the
person's display name."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest

from bot.threads import ThreadHeads
from tests.integration.conftest import BotRunner
from tests.integration.element_peer import ElementPeer
from tests.integration.future_dates import long_fr, numeric_fr, tuesday_ahead
from tests.integration.test_cross_signing import encrypted_club, status

pytestmark = pytest.mark.integration

TUE = tuesday_ahead()
THU = TUE + timedelta(days=2)

NAME = "Ana Lefèvre <CCT>"  # HTML in a display name: shown, never markup


async def ask(person: ElementPeer, runner: BotRunner, room: str, body: str,
              thread: str | None = None) -> dict[str, Any]:
    """Sends ``body`` (in the thread of ``thread`` if given) and returns the bot's answer as the
    person's Element sees it (in that thread's timeline, if in one)."""
    sent = await person.request("send", room_id=room, body=body, thread_root=thread)
    if thread is None:
        reply = await person.request("wait_reply", room_id=room, sender=runner.user_id,
                                     event_id=sent["event_id"], timeout=60)
        assert reply["found"] and reply.get("decrypted"), reply
    else:
        reply = await person.request("wait_thread_reply", room_id=room, sender=runner.user_id,
                                     event_id=sent["event_id"], root=thread, timeout=60)
    return {**reply, "command": sent["event_id"]}


def without_relation(content: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in content.items() if key != "m.relates_to"}


def answered_in_thread(reply: dict[str, Any], root: str) -> None:
    """The answer is in the thread of ``root`` and names the command it answers: no fallback."""
    assert reply["in_thread"] and not reply["in_main_timeline"], reply
    assert reply["relates_to"] == {"rel_type": "m.thread", "event_id": root,
                                   "is_falling_back": False,
                                   "m.in_reply_to": {"event_id": reply["command"]}}, reply
    assert reply["thread_root"] == root and reply["reply_to"] == reply["command"]


async def test_a_command_in_a_thread_is_answered_in_it(bot_factory, elements) -> None:
    ana = await elements("ana", threads=True)
    runner, room = await encrypted_club(bot_factory, ana)
    await status(ana, runner)  # Element knows the bot's device before writing
    root = (await ana.request("send", room_id=room, body="Qui vient samedi ?"))["event_id"]
    await ana.request("send", room_id=room, body="Moi !", thread_root=root)  # a thread going on
    reply = await ask(ana, runner, room, "!ping", thread=root)
    answered_in_thread(reply, root)
    assert reply["encrypted"] and reply["decrypted"] and "pong" in reply["body"].lower()

    # The latest event of the thread, for the bot's own messages there: its answer, as it
    # sent it; after a restart (nothing in memory), as the homeserver says.
    assert runner.bot is not None
    transport = runner.bot.transport
    assert await transport.thread_latest(room, root) == reply["event_id"]
    transport.threads = ThreadHeads()
    assert await transport.thread_latest(room, root) == reply["event_id"]
    transport.threads = ThreadHeads()
    assert await transport.thread_latest(room, reply["event_id"]) == reply["event_id"]  # none
    main = await ask(ana, runner, room, "!ping")  # the main timeline: a plain reply
    assert main["relates_to"] == {"m.in_reply_to": {"event_id": main["command"]}}


async def test_polls_as_element_reads_them_votes_and_pills(bot_factory, elements) -> None:
    ana = await elements("ana", threads=True, display_name=NAME)
    runner, room = await encrypted_club(bot_factory, ana)  # Ana, its creator, coordinates
    await status(ana, runner)
    opened = await ask(ana, runner, room, f"!sondage dates Rencontre ? | {long_fr(TUE)} "
                                          f"18h30 | {numeric_fr(THU)} 18h-20h")
    assert "Sondage n°1 ouvert avec 2 créneaux" in opened["body"]

    polls = (await ana.request("polls", room_id=room, count=2, timeout=60))["polls"]
    assert [p["question"] for p in polls] == [f"1. {long_fr(TUE)}, 18h30–20h30",
                                              f"2. {long_fr(THU)}, 18h–20h"]
    root = polls[0]["thread_root"]
    for poll, latest in zip(polls, (root, polls[0]["event_id"]), strict=True):
        assert poll["parsed"] and poll["kind"] == "org.matrix.msc3381.poll.disclosed", poll
        assert poll["max_selections"] == 1
        assert poll["answers"] == [{"id": "yes", "text": "Oui"},
                                   {"id": "maybe", "text": "Si nécessaire"},
                                   {"id": "no", "text": "Non"}]
        # In the thread of the poll's message, falling back on the thread's latest event.
        assert poll["thread_root"] == root
        assert poll["relates_to"] == {"rel_type": "m.thread", "event_id": root,
                                      "is_falling_back": True,
                                      "m.in_reply_to": {"event_id": latest}}
        # Shaped as the SDK's PollStartEvent builds it (its relation apart).
        assert without_relation(poll["content"]) == poll["sdk_content"], poll

    # Ana votes in Element for the first date, then types a !vote in the poll's thread.
    await ana.request("vote", room_id=room, poll_event_id=polls[0]["event_id"], answer="yes")
    voted = await ask(ana, runner, room, "!vote 2 non", thread=root)
    answered_in_thread(voted, root)
    results = ""
    for _ in range(60):  # the native vote comes with a sync of its own
        results = (await ask(ana, runner, room, "!sondage resultats", thread=root))["body"]
        if "1 personne a voté" in results:
            break
    assert f"| 1 | **{long_fr(TUE)}, 18h30–20h30** 🏆 | 1 | 0 | 0 | 2 | — |" in results
    assert f"| 2 | {long_fr(THU)}, 18h–20h | 0 | 0 | 1 | 0 | {ana.user_id} |" in results

    # Closed: Element's poll model finds and parses each end event.
    await ask(ana, runner, room, "!sondage cloturer")
    ended = (await ana.request("polls", room_id=room, count=2, ended=True, timeout=60))["polls"]
    for poll in ended:
        assert poll["ended"] and poll["end_parsed"], poll
        assert poll["end_poll"] == poll["event_id"]
        mentions = poll["end_content"].pop("m.mentions")  # the rest: PollEndEvent's shape
        assert mentions == {} and poll["end_content"] == poll["sdk_end_content"], poll
    assert ended[0]["end_text"] == (f"{long_fr(TUE)}, 18h30–20h30 : 1 oui, "
                                    "0 si nécessaire, 0 non.")

    # The closing message names Ana: her pill shows her display name, escaped.
    closed = await ana.request("wait_message", room_id=room, sender=runner.user_id,
                               contains="est clos", timeout=60)
    link = f'<a href="https://matrix.to/#/{ana.user_id}">{html.escape(NAME, quote=False)}</a>'
    assert link in closed["formatted_body"], closed["formatted_body"]
    assert ana.user_id in closed["body"]  # the plain text keeps the id
