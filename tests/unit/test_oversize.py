"""Messages over the homeserver's size limit: measured as sent, cut into valid parts, or a file."""

from __future__ import annotations

import base64
import html
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
import vodozemac

from bot import markup, oversize
from bot.matrix_api import MatrixError
from bot.oversize import CONTENT_LIMIT, MAX_PARTS, Message, as_file, body_of, deliver, parts
from bot.render import message_content
from commands.effects import Reply
from commands.i18n import Translator
from commands.text import escape_markdown, pill
from tests.handlers.fakes import FakeErrorResponse

T = Translator("fr")
ROOM = "!salon:example.org"
ALICE, BOB, CAROL = "@alice:example.org", "@bob:example.org", "@carol:example.org"
SENDER = "@demandeur:example.org"


def reply(markdown: str, *, mentions: tuple[str, ...] = (), to: str | None = "$cmd",
          sender: str | None = SENDER) -> dict[str, Any]:
    return message_content(Reply(markdown, mentions=mentions), in_reply_to=to,
                           reply_sender=sender)


def message(content: dict[str, Any], *, encrypted: bool = False) -> Message:
    return Message(ROOM, content, "cct-reply-abc", encrypted=encrypted)


def cut(content: dict[str, Any], *, encrypted: bool = False) -> list[dict[str, Any]]:
    made = parts(message(content, encrypted=encrypted), T)
    assert made is not None
    return [part for part, _ in made]


def table(rows: int, text: str = "Nettoyage des berges de la Durance, été") -> str:
    lines = [f"| {i} | {text} {i} | {pill(ALICE)} |" for i in range(rows)]
    return "## Rappels\n\n| n | quoi | qui |\n|---|---|---|\n" + "\n".join(lines)


class Balance(HTMLParser):
    """Checks that every element opened is closed, in order (valid nesting)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in markup.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()


def well_formed(markup: str) -> bool:
    checker = Balance()
    checker.feed(markup)
    checker.close()
    return checker.stack == []


def letters(text: str) -> str:
    """The words of a text, without markup or punctuation: what a reader reads."""
    return " ".join(re.findall(r"\w+", html.unescape(re.sub(r"<[^>]*>", " ", text))))


def without_labels(text: str, count: int) -> str:
    for number in range(1, count + 1):
        for label in (T("oversize.first_part", parts=count),
                      T("oversize.next_part", part=number, parts=count)):
            text = text.replace(label, " ")
    return text


# --- Sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 100, 1_000, 10_000, 49_999, 70_000])
def test_the_megolm_size_is_an_upper_bound_within_a_few_bytes(length: int) -> None:
    session = vodozemac.GroupSession()
    for _ in range(200):  # a message index of two bytes
        session.encrypt(b"x")
    real = len(session.encrypt(b"a" * length).to_base64())
    assert real <= oversize.megolm_size(length) <= real + 8


def test_an_encrypted_message_is_measured_as_the_envelope_nio_sends() -> None:
    content = reply("Été à **Embrun** : « réunion » 🌱\n\n" + "é" * 5_000)
    session = vodozemac.GroupSession()
    plaintext = json.dumps({"content": content, "type": "m.room.message", "room_id": ROOM},
                           separators=(",", ":"))
    sent = {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "K" * 43,
            "ciphertext": session.encrypt(plaintext.encode()).to_base64(),
            "session_id": session.session_id, "device_id": "CCTBOT",
            "m.relates_to": content["m.relates_to"]}
    real = len(json.dumps(sent, ensure_ascii=False, separators=(",", ":")).encode())
    measured = oversize.content_size(content, "m.room.message", ROOM, True)
    assert real <= measured <= real + 300  # the device id is counted at its longest
    # Accents cost 6 bytes in the encrypted text (JSON-escaped), then a third more in base64.
    assert measured > 1.7 * oversize.content_size(content, "m.room.message", ROOM, False)


def test_a_plain_message_is_measured_as_canonical_json_in_utf8() -> None:
    content = {"body": "é\n\"", "msgtype": "m.notice"}
    assert oversize.content_size(content, "m.room.message", ROOM, False) == len(
        '{"body":"é\\n\\"","msgtype":"m.notice"}'.encode())


# --- Parts ----------------------------------------------------------------------------------


def test_a_message_that_fits_is_not_cut() -> None:
    content = reply(table(100))
    assert message(content).fits(content)
    assert message(content, encrypted=True).fits(content)


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_long_table_is_cut_between_rows_with_its_header_repeated(encrypted: bool) -> None:
    content = reply(table(400))  # 98 KB, 140 KB encrypted
    assert not message(content, encrypted=encrypted).fits(content)
    made = cut(content, encrypted=encrypted)
    assert 2 <= len(made) <= MAX_PARTS
    rows: list[str] = []
    for part in made:
        assert message(part, encrypted=encrypted).fits(part)
        assert well_formed(part["formatted_body"])
        assert part["formatted_body"].count("<thead>") == 1  # the header in every part
        assert "<th>quoi</th>" in part["formatted_body"]
        assert "| n | quoi | qui |" in part["body"]
        rows += re.findall(r"<td>(\d+)</td>", part["formatted_body"])
    assert rows == [str(i) for i in range(400)]  # each row once, in order
    # The parts are of a size: not a full one and a scrap.
    sizes = [oversize.content_size(p, "m.room.message", ROOM, encrypted) for p in made]
    assert max(sizes) < 1.5 * min(sizes)


def test_each_part_body_says_what_its_html_shows() -> None:
    markdown = ("# Bilan\n\nUn paragraphe *important* avec [un lien](https://example.org/x) et "
                f"{pill(BOB)}.\n\n" + "\n".join(f"- point {i} : **fait** `code {i}`"
                                                for i in range(1000))
                + "\n\n> Citation finale\n\n```\nbloc de code\n```")
    made = cut(reply(markdown))
    assert len(made) >= 2
    for part in made:
        link_targets = re.compile(r"\]\([^)]*\)")
        assert letters(link_targets.sub("]", part["body"])) == letters(part["formatted_body"])
        assert part["body"] == body_of(part["formatted_body"])
    assert "[un lien](https://example.org/x)" in made[0]["body"]
    assert BOB in made[0]["body"] and "matrix.to" not in made[0]["body"]  # a pill's text
    assert made[-1]["body"].endswith("> Citation finale\n\n```\nbloc de code\n```")
    assert letters(" ".join(without_labels(p["formatted_body"], len(made)) for p in made)) \
        == letters(message_content(Reply(markdown))["formatted_body"])


def test_a_numbered_list_goes_on_from_its_number() -> None:
    markdown = "\n".join(f"{i}. étape numéro {i} de la démarche" for i in range(1, 1200))
    made = cut(reply(markdown))
    assert len(made) >= 2
    assert "<ol>" in made[0]["formatted_body"]
    last_first = max(int(n) for n in re.findall(r"^(\d+)\. ", made[0]["body"], re.M))
    assert f'<ol start="{last_first + 1}">' in made[1]["formatted_body"]
    assert re.search(rf"^{last_first + 1}\. étape numéro {last_first + 1} ", made[1]["body"],
                     re.M)


def test_a_plain_text_message_is_cut_at_line_ends() -> None:
    lines = [f"ligne {i} : « {'é' * (i % 40)} »" for i in range(2500)]
    content = {"msgtype": "m.notice", "body": "\n".join(lines)}
    made = cut(content)
    assert 2 <= len(made) <= MAX_PARTS
    seen: list[str] = []
    for part in made:
        assert "formatted_body" not in part
        assert message(part).fits(part)
        seen += [line for line in part["body"].split("\n") if line.startswith("ligne ")]
    assert seen == lines


def test_a_single_line_longer_than_the_limit_is_cut_between_words() -> None:
    words = [f"mot{i}-été" for i in range(5_000)]
    made = cut(reply(" ".join(words)))
    assert len(made) >= 2
    seen: list[str] = []
    for part in made:
        assert well_formed(part["formatted_body"])
        assert message(part).fits(part)
        seen += without_labels(part["body"], len(made)).split()
    assert seen == words


@pytest.mark.parametrize(("word", "encrypted"), [
    ("".join(chr(0x4E00 + i % 2000) for i in range(18_000)), False),  # three bytes each
    ("🌱" * 5_000, True),  # twelve bytes each once encrypted (two escaped UTF-16 halves)
], ids=["cjk", "emoji-encrypted"])
def test_a_word_longer_than_the_limit_is_cut_between_characters(word: str,
                                                                 encrypted: bool) -> None:
    made = cut(reply(word), encrypted=encrypted)
    assert len(made) >= 2
    assert "".join("".join(without_labels(p["body"], len(made)).split()) for p in made) == word
    sizes = [oversize.content_size(p, "m.room.message", ROOM, encrypted) for p in made]
    assert max(sizes) <= CONTENT_LIMIT
    assert max(sizes) < 1.2 * min(sizes)  # even parts


def test_emphasis_cut_in_the_middle_is_closed_and_opened_again() -> None:
    made = cut(reply("**" + " ".join(f"gras{i}" for i in range(7_000)) + "**"))
    assert len(made) >= 2
    for part in made:
        assert well_formed(part["formatted_body"])
        assert "<strong>" in part["formatted_body"]


def test_parts_say_where_they_are_and_keep_the_right_relations_and_mentions() -> None:
    markdown = f"{pill(ALICE)} ouvre.\n\n" + table(700) + f"\n\n{pill(CAROL)} conclut."
    content = reply(markdown, mentions=(ALICE, CAROL))
    made = cut(content)
    count = len(made)
    assert made[0]["body"].endswith(T("oversize.first_part", parts=count))
    for number, part in enumerate(made[1:], start=2):
        assert part["body"].startswith(T("oversize.next_part", part=number, parts=count))
        assert "m.relates_to" not in part  # only the first part answers the command
    assert made[0]["m.relates_to"] == {"m.in_reply_to": {"event_id": "$cmd"}}
    # Each person is notified by the part naming them; the person answered by the first.
    assert set(made[0]["m.mentions"]["user_ids"]) == {ALICE, SENDER}
    assert CAROL in made[-1]["m.mentions"]["user_ids"]
    for part in made[1:]:
        assert SENDER not in part["m.mentions"]["user_ids"]
        assert (ALICE in part["m.mentions"]["user_ids"]) == (ALICE in part["formatted_body"])
    assert all(part["msgtype"] == "m.notice" for part in made)


def test_every_part_of_a_thread_message_stays_in_the_thread() -> None:
    content = reply(table(700), to=None, sender=None)
    content["m.relates_to"] = {"rel_type": "m.thread", "event_id": "$root",
                               "is_falling_back": True, "m.in_reply_to": {"event_id": "$root"}}
    made = cut(content)
    assert len(made) >= 2
    assert all(part["m.relates_to"] == content["m.relates_to"] for part in made)


def test_the_cut_is_the_same_each_time_and_each_part_has_its_own_transaction() -> None:
    content = reply(table(700))
    first = parts(message(content), T)
    assert first == parts(message(content), T)
    assert first is not None
    txns = [txn for _, txn in first]
    assert len(set(txns)) == len(txns)
    assert "cct-reply-abc" not in txns
    assert all(txn.startswith("cct-part-") for txn in txns)


def test_more_than_the_allowed_parts_is_a_file_instead() -> None:
    content = reply(table(3000))
    assert parts(message(content), T) is None
    plan = as_file(message(content), T)
    assert plan.data == content["body"].encode()
    assert plan.filename == "reponse.md" and plan.mimetype == "text/markdown"
    assert plan.file_content["m.relates_to"] == content["m.relates_to"]
    summary = plan.summary
    assert summary["body"].startswith("Rappels\n\nRéponse trop longue pour un message (")
    assert "reponse.md" in summary["formatted_body"] and "Ko" in summary["body"]
    assert summary["m.relates_to"] == content["m.relates_to"]
    assert summary["m.mentions"] == content["m.mentions"]
    assert message(summary).fits(summary)
    assert {plan.file_txn, plan.summary_txn}.isdisjoint({"cct-reply-abc"})
    assert plan.file_txn != plan.summary_txn


def test_an_edit_too_large_is_replaced_by_its_summary_and_the_file() -> None:
    new = message_content(Reply(table(3000)))
    content = {**new, "body": "* " + new["body"], "formatted_body": "* " + new["formatted_body"],
               "m.new_content": new, "m.relates_to": {"rel_type": "m.replace", "event_id": "$p"}}
    sized = message(content)
    assert not sized.splittable and sized.fileable
    plan = as_file(sized, T)
    assert plan.data == new["body"].encode()
    assert "m.relates_to" not in plan.file_content  # a file cannot replace a text
    assert plan.summary["m.relates_to"] == content["m.relates_to"]
    assert plan.summary["m.new_content"]["body"].startswith("Rappels\n\nRéponse trop longue")
    assert plan.summary["body"].startswith("* Rappels")


# --- Sending ---------------------------------------------------------------------------------


class Homeserver:
    """Sends and uploads recorded; a transaction id seen before posts nothing again; events
    over ``limit`` refused as too large."""

    def __init__(self, limit: int = CONTENT_LIMIT, encrypted: bool = False) -> None:
        self.limit = limit
        self.encrypted = encrypted
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.txns: dict[str, str] = {}
        self.uploads: list[tuple[bytes, str, str]] = []

    async def send(self, content: dict[str, Any], txn: str) -> str:
        if oversize.content_size(content, "m.room.message", ROOM, self.encrypted) > self.limit:
            raise MatrixError("send", FakeErrorResponse("M_TOO_LARGE"))
        if txn not in self.txns:
            self.txns[txn] = f"$e{len(self.events)}"
            self.events.append((txn, content))
        return self.txns[txn]

    async def upload(self, data: bytes, mimetype: str, filename: str) -> dict[str, Any]:
        self.uploads.append((data, mimetype, filename))
        return {"url": f"mxc://example.org/{len(self.uploads)}"}


async def test_a_message_that_fits_goes_whole_with_its_own_transaction() -> None:
    server = Homeserver()
    content = reply("**pong**")
    assert await deliver(message(content), server.send, server.upload, T) == "$e0"
    assert server.events == [("cct-reply-abc", content)]


async def test_parts_go_in_order_and_a_resend_posts_nothing_twice() -> None:
    server = Homeserver()
    content = reply(table(700))
    first = await deliver(message(content), server.send, server.upload, T)
    again = await deliver(message(content), server.send, server.upload, T)  # after a crash
    assert first == again == "$e0"
    expected = parts(message(content), T)
    assert server.events == [(txn, part) for part, txn in (expected or [])]


async def test_a_message_refused_as_too_large_goes_as_a_file() -> None:
    server = Homeserver(limit=20_000)  # a homeserver stricter than the estimate
    content = reply(table(200))
    event = await deliver(message(content), server.send, server.upload, T)
    ((data, mimetype, filename),) = server.uploads
    assert data == content["body"].encode() and mimetype == "text/markdown"
    file_txn, file_content = server.events[0]
    assert file_content["msgtype"] == "m.file" and file_content["url"] == "mxc://example.org/1"
    assert file_content["filename"] == filename == "reponse.md"
    summary_txn, summary = server.events[1]
    assert event == "$e1" and "reponse.md" in summary["body"]
    assert len(server.events) == 2


async def test_a_part_refused_as_too_large_sends_the_whole_as_a_file() -> None:
    server = Homeserver(limit=50_000)
    content = reply(table(700))
    await deliver(message(content), server.send, server.upload, T)
    kinds = [part.get("msgtype") for _, part in server.events]
    assert "m.file" in kinds and len(server.uploads) == 1
    assert server.events[-1][1]["body"].startswith("Rappels\n\nRéponse trop longue")


async def test_a_huge_message_goes_as_a_file_and_a_resend_posts_nothing_twice() -> None:
    server = Homeserver(encrypted=True)
    content = reply(escape_markdown("Très long ") + table(3000))
    sized = message(content, encrypted=True)
    await deliver(sized, server.send, server.upload, T)
    await deliver(sized, server.send, server.upload, T)
    assert [part["msgtype"] for _, part in server.events] == ["m.file", "m.notice"]
    assert len(server.uploads) == 2  # uploaded again, but posted once


async def test_other_events_are_sent_as_they_are() -> None:
    server = Homeserver(limit=100)
    poll = {"org.matrix.msc3381.poll.start": {"question": {"body": "x" * 500}}}
    sized = Message(ROOM, poll, "cct-effect-1", "org.matrix.msc3381.poll.start")
    with pytest.raises(MatrixError):
        await deliver(sized, server.send, server.upload, T)
    assert server.uploads == []


def test_the_data_of_a_file_is_the_body_people_read() -> None:
    content = reply("# Titre\n\n" + table(3000))
    plan = as_file(message(content), T)
    assert base64.b64encode(plan.data)  # bytes, UTF-8
    assert plan.data.decode().startswith("# Titre\n\n## Rappels\n\n| n | quoi | qui |")
