"""Every list that grows with the club comes in pages (``--page n``): at the club's scale each
page's final event stays well under the homeserver's size limit, and walking the pages (each
time with the command the last line of the page gives) shows every item exactly once."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.outbox import Outbox
from commands.context import Place
from commands.projects.names import name_key, slugify
from commands.registry import Registry
from commands.roles import Role
from storage.db import Database
from storage.models import Meeting
from storage.repositories import Repositories
from tests.handlers.conftest import (
    ALICE,
    COORDINATOR,
    ROOM,
    START,
    Harness,
    make_club,
    make_harness,
)
from tests.handlers.fakes import FakeTransport

# An event's content as JSON: with the envelope, and once encrypted (base64 of the ciphertext
# is 4/3 of it), it stays within the homeserver's 65,536 bytes.
CONTENT_BUDGET = 40_000
MOST_LINES = 45  # 30 entries, their headings, the reply's fixed parts and the pages' line
PARIS = ZoneInfo("Europe/Paris")
# French text with what Markdown escapes (hyphens, dots, parentheses, apostrophes, &…).
PROSE = ("Relancer la mairie (service urbanisme) à propos de l'atelier vélo — prévoir "
         "3 devis, le plan d'accès & les horaires d'ouverture ; vérifier l'assurance. ")
DIRECT = "!direct:example.org"
NEXT = re.compile(r"Page (\d+) sur (\d+) — la suite : `([^`]+)`")
LAST = re.compile(r"Page (\d+) sur (\d+) — la précédente : `([^`]+)`")


def prose(length: int, number: int) -> str:
    """``length`` characters of French text starting with its number (each item differs)."""
    text = f"[{number}] " + PROSE * (length // len(PROSE) + 1)
    return text[:length].strip()


def person(number: int) -> str:
    """A realistic user id (longer than the other tests' ones)."""
    return f"@camille.dupont-{number:04d}:matrix.climat-transition.fr"


def content_bytes(content: dict[str, object]) -> int:
    return len(json.dumps(content, ensure_ascii=False).encode())


@dataclass(frozen=True)
class Walked:
    """The pages of one listing: their bodies and the size of their events."""

    bodies: list[str]
    sizes: list[int]

    def found(self, pattern: str) -> list[str]:
        """Every match of ``pattern`` on every page, in order (duplicates kept)."""
        return [match for body in self.bodies for match in re.findall(pattern, body)]


async def walk(bot: Harness, command: str, sender: str = ALICE, room_id: str = ROOM) -> Walked:
    """Page 1, then the command each page's last line gives, to the last page."""
    bodies: list[str] = []
    sizes: list[int] = []
    body: str | None = command
    while body is not None:
        sent = await bot.command(body, sender=sender, room_id=room_id)
        assert len(sent) == 1, sent
        bodies.append(str(sent[0].content["body"]))
        sizes.append(content_bytes(sent[0].content))
        following = NEXT.search(bodies[-1])
        if following is not None:
            assert int(following.group(1)) == len(bodies)
            assert following.group(3).endswith(f" --page {len(bodies) + 1}")
        body = following.group(3) if following is not None else None
    last = LAST.search(bodies[-1])
    assert last is not None and int(last.group(1)) == int(last.group(2)) == len(bodies)
    return Walked(bodies, sizes)


async def seed(bot: Harness, fill: Callable[[Repositories], Awaitable[object]]) -> None:
    async with bot.db.transaction() as repos:
        await fill(repos)


# --- the club's data at its target scale ----------------------------------------------------------

async def add_reminders(repos: Repositories, owner: str, count: int) -> None:
    for number in range(count):
        due = START + timedelta(days=1, hours=number)
        await repos.reminders.add(kind="personal", room_id=ROOM, owner=owner,
                                  text=prose(1000, number), rule=None, due_at=due, send_at=due,
                                  meeting_id=None, offset="", created_at=START)


async def reminders(repos: Repositories) -> None:
    await add_reminders(repos, ALICE, 150)


async def add_group(repos: Repositories, number: int, name: str = "") -> int:
    slug = slugify(name) if name else f"groupe-{number:03d}"
    name = name or f"Groupe {number:03d} " + "de la transition énergétique du territoire sud"
    group = await repos.groups.create(
        name=name, name_key=name_key(name), slug=slug, description=prose(1000, number),
        theme="energie", territory="sud", status="en-cours", created_by=ALICE, at=START)
    return group.id


async def big_group(repos: Repositories) -> None:
    """400 members (40 referents), 40 needs and 12 news of 2,000 characters."""
    group = await add_group(repos, 1, "Atelier vélo mobile")
    for number in range(400):
        await repos.groups.add_member(group, person(number), START + timedelta(minutes=number),
                                      tz=PARIS, referent=number < 40)
    for number in range(40):
        await repos.groups.add_need(group, "materiel", prose(2000, number), ALICE, START)
    for number in range(12):
        await repos.groups.add_progress(group, person(number), prose(2000, 100 + number),
                                        START + timedelta(days=number))


async def many_groups(repos: Repositories) -> None:
    """500 groups, Alice in each."""
    for number in range(1, 501):
        group = await add_group(repos, number)
        await repos.groups.add_member(group, ALICE, START, tz=PARIS, referent=number % 2 == 0)


async def history(repos: Repositories) -> None:
    group = await add_group(repos, 1)
    for number in range(300):
        await repos.audit.record(actor=person(number), subject="group", subject_id=group,
                                 action="progress", at=START + timedelta(minutes=number),
                                 text=prose(200, number))


async def initiatives(repos: Repositories) -> None:
    """1,200 initiatives, one in two about bikes."""
    for number in range(1200):
        name = f"Initiative {number:04d} " + ("vélo partagé" if number % 2 else "jardin partagé")
        commune = "Saint-Bonnet-en-Champsaur et communes voisines (Hautes-Alpes)"
        await repos.initiatives.add(
            name=name, name_key=name_key(name), description=prose(1000, number),
            theme="mobilite", commune=commune, contact="", link="", created_by=ALICE,
            created_at=START, search_key=f"{name_key(name)} {commune.lower()}")


async def add_meeting(repos: Repositories, days: int, place: str) -> Meeting:
    start = START + timedelta(days=days)
    return await repos.meetings.create(starts_at=start, ends_at=start + timedelta(hours=2),
                                       place=place, territory="commun", created_by=COORDINATOR,
                                       at=START)


async def meetings(repos: Repositories) -> None:
    """300 past rencontres, 60 to come, with long places."""
    for number in range(360):
        await add_meeting(repos, number - 300, prose(300, number))


async def answers(repos: Repositories) -> None:
    """650 answers to a rencontre: 400 coming, 150 maybe, 100 not coming."""
    meeting = await add_meeting(repos, 10, prose(300, 0))
    for number in range(650):
        answer = "present" if number < 400 else "peutetre" if number < 550 else "absent"
        await repos.meetings.set_rsvp(meeting.id, person(number), answer, START, tz=PARIS)


async def attendance(repos: Repositories) -> None:
    """300 came to a rencontre with 5,000 characters of minutes."""
    meeting = await add_meeting(repos, -10, "Salle des fêtes")
    meeting.status, meeting.minutes = "tenue", prose(5000, 0)
    await repos.meetings.set_attendance(meeting.id, [person(n) for n in range(300)],
                                        meeting.starts_at, tz=PARIS)


async def polls(repos: Repositories) -> None:
    for number in range(200):
        await repos.polls.create(question=prose(300, number), territory="tout", room_id=ROOM,
                                 closes_at=START + timedelta(days=30), created_by=COORDINATOR,
                                 at=START)


async def agenda(repos: Repositories) -> None:
    """150 suggestions of 500 characters, 120 items with long titles and methods."""
    meeting = await add_meeting(repos, 20, "Salle des fêtes")
    for number in range(150):
        await repos.agenda.add_suggestion(meeting_id=meeting.id, author=person(number),
                                          text=prose(500, number), room_id=ROOM,
                                          confirmation_txn=f"txn{number}", at=START)
    for number in range(120):
        await repos.agenda.add_item(meeting_id=meeting.id, title=prose(500, 1000 + number),
                                    minutes=10, method=prose(200, number),
                                    presenter=f"{person(number)} {person(number + 1)}",
                                    created_by=COORDINATOR, at=START)


async def remontees(repos: Repositories) -> None:
    """600 remontées of 2,000 characters, a third of them answered at length."""
    for number in range(600):
        row = await repos.remontees.add(author=person(number), room_id=ROOM,
                                        text=prose(2000, number), at=START)
        if number % 3:
            row.status, row.sent_at = "transmise", START
        if number % 3 == 2:
            row.status, row.answer, row.answered_at = "repondue", prose(4000, number), START


def numbers(first: int, last: int, step: int = 1) -> set[str]:
    return {str(n) for n in range(first, last + 1, step)}


def people(count: int) -> set[str]:
    return {person(n) for n in range(count)}


# --- walking every listing ------------------------------------------------------------------------

LINE_NUMBER = r"(?m)^- n°(\d+) "
TABLE_ROW = r"(?m)^\| (\d+) \| "
MEETING_NUMBER = r"(?m)^- Rencontre du club n°(\d+) "
PERSON = r"@camille\.dupont-\d+:[a-z.-]+"


@dataclass(frozen=True)
class Listing:
    """A command at the club's scale: the data, how many pages, what marks an item (its first
    group) and which items there are."""

    command: str
    fill: Callable[[Repositories], Awaitable[None]]
    pages: int
    item: str
    items: set[str]
    sender: str = ALICE
    room: str = ROOM


LISTINGS = {
    "rappel liste": Listing("!rappel liste", reminders, 11, LINE_NUMBER, numbers(1, 150)),
    "projet membres": Listing("!projet membres velo", big_group, 14, r"(?m)^- (@camille[^ ]+)",
                              people(400)),
    "projet info": Listing("!projet info velo", big_group, 9, r"(?m)^- n°(\d+) \(matériel\)",
                           numbers(1, 40)),
    "projet liste": Listing("!projet liste", many_groups, 17, TABLE_ROW, numbers(1, 500)),
    "projet liste filtrée": Listing("!projet liste énergie", many_groups, 17, TABLE_ROW,
                                    numbers(1, 500)),
    "mesprojets": Listing("!mesprojets", many_groups, 17, r"\(`groupe-0*(\d+)`\)",
                          numbers(1, 500)),
    "projet historique": Listing("!projet historique 1", history, 15,
                                 r"l'avancement : \[(\d+)\]", numbers(0, 299),
                                 sender=COORDINATOR),
    "initiative liste": Listing("!initiative liste", initiatives, 40, LINE_NUMBER,
                                numbers(1, 1200)),
    "initiative chercher": Listing("!initiative chercher Vélo", initiatives, 20, LINE_NUMBER,
                                   numbers(2, 1200, 2)),
    "rencontre liste": Listing("!rencontre liste", meetings, 12, MEETING_NUMBER, numbers(1, 360)),
    "programme": Listing("!programme", meetings, 2, MEETING_NUMBER, numbers(301, 360)),
    "rencontre info": Listing("!rencontre info", answers, 14, PERSON, people(650)),
    "rencontre info, venus": Listing("!rencontre info 1", attendance, 10, PERSON, people(300)),
    "sondage liste": Listing("!sondage liste", polls, 7, LINE_NUMBER, numbers(1, 200)),
    "odj liste, propositions": Listing("!odj liste", agenda, 14, LINE_NUMBER, numbers(1, 150)),
    "odj liste, points": Listing("!odj liste", agenda, 14, r"(?m)^\| (\d+) \| \d",
                                 numbers(1, 120)),
    "remontee liste": Listing("!remontee liste", remontees, 21, LINE_NUMBER, numbers(1, 600),
                              sender=COORDINATOR, room=DIRECT),
}


@pytest.mark.parametrize("name", LISTINGS)
async def test_every_item_once_in_pages_well_under_the_size_limit(bot: Harness, name: str) -> None:
    listing = LISTINGS[name]
    bot.places[DIRECT] = Place.DIRECT
    await seed(bot, listing.fill)
    walked = await walk(bot, listing.command, listing.sender, listing.room)
    assert len(walked.bodies) == listing.pages
    assert max(walked.sizes) <= CONTENT_BUDGET, walked.sizes
    assert all(len(body.splitlines()) <= MOST_LINES for body in walked.bodies)
    found = walked.found(listing.item)
    assert len(found) == len(set(found)), "an item is shown twice"
    assert set(found) == listing.items
    assert await bot.reply_to(f"{listing.command} --page 999", sender=listing.sender,
                              room_id=listing.room) == walked.bodies[-1]


# --- what the pages say ---------------------------------------------------------------------------

@pytest.mark.parametrize(("fill", "command", "line"), [
    (big_group, "!projet membres velo", "`!projet membres atelier-velo-mobile --page 2`"),
    (big_group, "!projet info", "`!projet info atelier-velo-mobile --page 2`"),
    (many_groups, "!projet liste énergie", "`!projet liste energie --page 2`"),
    (history, "!projet historique 1", "`!projet historique groupe-001 --page 2`"),
    (initiatives, "!initiative chercher Vélo", "`!initiative chercher Vélo --page 2`"),
    (initiatives, "!initiative liste mobilité", "`!initiative liste mobilite --page 2`"),
    (answers, "!rencontre info", "`!rencontre info 1 --page 2`"),
    (agenda, "!odj liste", "`!odj liste --rencontre 1 --page 2`"),
])
async def test_the_next_page_is_named_with_what_it_lists(
        bot: Harness, fill: Callable[[Repositories], Awaitable[None]], command: str,
        line: str) -> None:
    await seed(bot, fill)
    bot.roles[ALICE] = Role.COORDINATOR
    async with bot.db.transaction() as repos:
        group = await repos.groups.get(1)
        if group is not None:
            group.room_id = ROOM  # « !projet info » without a group: this room's
    reply = await bot.reply_to(command)
    assert re.search(rf"\n\nPage 1 sur \d+ — la suite : {re.escape(line)}$", reply), reply[-200:]


async def test_a_group_card_shows_ten_people_and_where_the_others_are(bot: Harness) -> None:
    await seed(bot, big_group)
    card = await bot.reply_to("!projet info velo")
    referents, members = card.splitlines()[5:7]
    assert referents.startswith("- **Référents :** ")
    assert referents.endswith(" et 30 autres (`!projet membres atelier-velo-mobile`)")
    assert members.startswith("- **Membres (400) :** ") and " et 390 autres " in members
    walked = await walk(bot, "!projet info velo")
    news = walked.found(r"(?m)^- \d\d/\d\d/\d{4} — @camille[^ ]+ : \[(\d+)\]")
    assert news == ["111", "110", "109"]  # the latest three, on the first page only


async def test_headings_and_counts_repeat_on_every_page(bot: Harness) -> None:
    await seed(bot, answers)
    walked = await walk(bot, "!rencontre info")
    assert all("400 présents, 150 peut-être, 100 absents" in body for body in walked.bodies)
    await seed(bot, reminders)
    walked = await walk(bot, "!rappel liste")
    assert all(body.startswith("**Vos rappels** (150) :") for body in walked.bodies)
    assert all("Annuler : `!rappel annuler <n°>`" in body for body in walked.bodies)


async def test_past_meetings_follow_upcoming_ones(bot: Harness) -> None:
    await seed(bot, meetings)
    walked = await walk(bot, "!rencontre liste")
    assert walked.bodies[0].startswith("**Rencontres à venir** (60) :")
    assert walked.bodies[1].startswith("**Rencontres à venir** (60) :\n- Rencontre du club n°331 ")
    assert walked.bodies[2].startswith(
        "**Rencontres passées** (300, les plus récentes d'abord) :\n- Rencontre du club n°300 ")


async def test_the_agenda_table_keeps_its_head_and_end(bot: Harness) -> None:
    await seed(bot, agenda)
    walked = await walk(bot, "!odj liste")
    ends = [body for body in walked.bodies if "| Fin |" in body]  # under the last item only
    assert len(ends) == 1 and "\n| 120 | " in ends[0]
    for body in walked.bodies:  # each page with items has the table's head, once
        has_items = re.search(r"(?m)^\| \d+ \| \d", body) is not None
        assert body.count("| # | Heure | Point |") == has_items


async def test_remontee_authors_only_in_a_coordinators_direct_message(bot: Harness) -> None:
    await seed(bot, remontees)
    bot.places[DIRECT] = Place.DIRECT
    walked = await walk(bot, "!remontee liste", sender=COORDINATOR, room_id=DIRECT)
    assert set(walked.found(r"— (@camille[^ \n]+)")) == people(600)
    in_the_room = await bot.reply_to("!remontee liste --page 3", sender=COORDINATOR)
    assert "@camille" not in in_the_room and "_Les auteurs des remontées" in in_the_room


async def test_a_bad_page_number_gets_the_usage_and_a_phones_dash_is_read(bot: Harness) -> None:
    await seed(bot, reminders)
    for page in ("0", "deux", "-1", "1.5"):
        reply = await bot.reply_to(f"!rappel liste --page {page}")
        assert "Usage : `!rappel liste [--page <page>]`" in reply, page
    assert "Page 2 sur 11" in await bot.reply_to("!rappel liste —page 2")


async def test_help_shows_the_page_option(bot: Harness) -> None:
    assert "`!rappel liste [--page <page>]`" in await bot.reply_to("!aide rappel")
    assert "`!projet historique <groupe…> [--page <page>]`" in await bot.reply_to(
        "!aide projet", sender=COORDINATOR)


async def test_a_short_list_says_nothing_of_pages(bot: Harness) -> None:
    await seed(bot, lambda repos: add_reminders(repos, ALICE, 3))
    reply = await bot.reply_to("!rappel liste")
    assert reply.count("\n- n°") == 3 and "Page" not in reply


async def test_pages_in_english(db: Database, clock: FakeClock, transport: FakeTransport,
                                outbox: Outbox, registry: Registry) -> None:
    bot = make_harness(db, clock, transport, outbox, registry, replace(make_club(), language="en"))
    await seed(bot, lambda repos: add_reminders(repos, ALICE, 40))
    first = await bot.reply_to("!remind list")
    assert re.search(r"Page 1 of \d+ — next: `!remind list --page 2`", first)
    last = await bot.reply_to("!remind list --page 50")
    assert re.search(r"Page (\d+) of \1 — previous: `!remind list --page \d+`", last)


async def test_poll_results_stay_small_with_many_voters(bot: Harness) -> None:
    """Not paged: 20 slots at most, 8 names of who cannot come on each."""
    async def poll(repos: Repositories) -> None:
        created = await repos.polls.create(question=prose(300, 0), territory="tout", room_id=ROOM,
                                           closes_at=None, created_by=COORDINATOR, at=START)
        slots = [await repos.polls.add_slot(created.id, position, START + timedelta(days=position),
                                            START + timedelta(days=position, hours=2))
                 for position in range(1, 21)]
        for number in range(400):
            await repos.polls.cast(poll_id=created.id, user_id=person(number),
                                   answers=[(slot.id, "non") for slot in slots], source="text",
                                   at=START, event_id=f"$vote{number}", tz=PARIS)

    await seed(bot, poll)
    sent = await bot.command("!sondage resultats 1")
    assert content_bytes(sent[0].content) <= CONTENT_BUDGET


# --- !aide: not paged, small whatever the data --------------------------------------------------------

async def test_help_stays_small(bot: Harness, registry: Registry) -> None:
    bot.roles[ALICE] = Role.COORDINATOR
    sent = await bot.command("!aide")
    assert content_bytes(sent[0].content) <= CONTENT_BUDGET
    for command in registry:
        sent = await bot.command(f"!aide {command.fr[0]}")
        assert content_bytes(sent[0].content) <= CONTENT_BUDGET
