"""A seeded three-year club (2024–2026, the contract's phase 2 and a little after) for the
report: rencontres (some common to both territories, one cancelled), webinaires with
headcounts and guests, group meetings, members named at events, groups whose status changes,
progress notes, needs met, funding, actions decided at events, remontées carried and
answered, initiatives. Every activity goes through the repository method the bot writes it
with, so the participation ledger is fed as in real use. ``EXPECTED`` holds the figures it
must give, worked out by hand below each block."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from storage.db import Database
from storage.models import Initiative, ProjectGroup

PARIS = ZoneInfo("Europe/Paris")
COORD = "@chargee:example.org"


def member(n: int) -> str:
    return f"@m{n:02d}:example.org"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


# Events: (day, kind, territory, status, members named (numbers), headcounts, guests)
EVENTS = (
    # 2024: three rencontres (one common), a webinaire, a group meeting
    (paris(2024, 2, 10, 18), "rencontre", "commun", "tenue", range(0, 10), {}, 0),
    (paris(2024, 5, 15, 18), "territoriale", "nord", "tenue", range(0, 5), {"habitant": 4}, 1),
    (paris(2024, 9, 20, 18), "territoriale", "sud", "tenue", range(10, 14), {}, 0),
    (paris(2024, 11, 5, 18), "webinaire", "commun", "tenue", range(0, 2),
     {"elu": 3, "habitant": 12}, 2),
    (paris(2024, 12, 3, 18), "groupe", "commun", "tenue", range(20, 23), {}, 0),
    # 2025: two common rencontres, one cancelled, a webinaire
    (paris(2025, 3, 12, 18), "rencontre", "commun", "tenue", range(5, 15), {"association": 2}, 0),
    (paris(2025, 6, 18, 18), "rencontre", "commun", "tenue", range(10, 20), {}, 0),
    (paris(2025, 10, 1, 18), "rencontre", "nord", "annulee", range(0, 3), {"habitant": 9}, 0),
    (paris(2025, 11, 20, 18), "webinaire", "commun", "tenue", range(15, 18), {"habitant": 20}, 0),
    # 2026 until 31 October: one rencontre, a webinaire, a group meeting
    (paris(2026, 4, 8, 18), "rencontre", "commun", "tenue", range(18, 25), {}, 3),
    (paris(2026, 6, 2, 18), "webinaire", "commun", "tenue", range(24, 26), {"elu": 5}, 0),
    (paris(2026, 9, 15, 18), "groupe", "sud", "tenue", range(20, 23), {}, 0),
    # after phase 2: not in it
    (paris(2026, 11, 18, 18), "rencontre", "commun", "tenue", range(30, 35), {"habitant": 6}, 0),
)

# Profiles: members 0–9 nord habitants, 10–14 sud élus, the others without a profile.
# Other acts: member 40 votes in 2025 only (no event); member 41 took part in 2023 only.

PHASE2 = {  # !bilan phase2 (2024-01-01 … 2026-10-31)
    # held events: 5 + 3 + 3 = 11; of the club's kinds (rencontre, territoriale): 3 + 2 + 1 = 6
    "evenements": 11, "rencontres": 6,
    # held, common, of the club's kinds: 1 (2024) + 2 (2025) + 1 (2026) = 4
    "rencontres_communes": 4,
    # present at events not cancelled (members named + headcounts + guests), once per event:
    # 2024: 10 + (5+4+1) + 4 + (2+15+2) + 3 = 46; 2025: (10+2) + 10 + (3+20) = 45;
    # 2026: (7+3) + (2+5) + 3 = 20 → 111
    "presences": 111,
    "webinaires": 19 + 23 + 7,
    # members 0–25 named at events of the period, 40 (a vote): 27 people, once each; all
    # new (41 took part in 2023, 30–34 after the period)
    "participants": 27, "nouveaux": 27,
    # 27 participants + the people without Matrix at the events (guests and headcounts):
    # 2024: 4+1+15+2 = 22; 2025: 2+20 = 22 (not the cancelled one's 9); 2026: 3+5 = 8 → 52
    "mobilisation": 27 + 52,
    "groupes": 2,  # the third is archived
    "actions": 3, "actions_faites": 1,
    "remontees": 2, "reponses": 1,
    "initiatives": 2,
    "financements": 12000 + 1500.5,
}
YEARS = {  # each year of phase 2 alone
    # participants: 2024 members 0–13 and 20–22; 2025 0–2, 5–19 and 40; 2026 (to October) 18–25
    2024: {"rencontres": 3, "rencontres_communes": 1, "presences": 46, "participants": 17},
    2025: {"rencontres": 2, "rencontres_communes": 2, "presences": 45, "participants": 19},
    2026: {"rencontres": 1, "rencontres_communes": 1, "presences": 20, "participants": 8},
}


async def seed(db: Database) -> dict[str, int]:
    """Writes the club; returns the ids of what tests name (groups, events)."""
    ids: dict[str, int] = {}
    async with db.transaction() as repos:
        people = repos.participants
        for n in range(15):
            values = ({"territory": "nord", "category": "habitant"} if n < 10
                      else {"territory": "sud", "category": "elu"})
            await people.set_profile(member(n), paris(2024, 1, 5), **values)
        groups = []
        for index, (name, status) in enumerate((("Atelier vélo", "en-cours"),
                                                ("Jardin partagé", "idee"),
                                                ("Ancien groupe", "archive"))):
            group = ProjectGroup(slug=f"g{index}", name=name, name_key=f"g{index}",
                                 description="", theme="mobilite", territory="sud",
                                 status=status, funding="Dossier LEADER en cours" if index == 0
                                 else "", created_by=COORD, created_at=paris(2024, 1, 15),
                                 updated_at=paris(2024, 1, 15))
            repos.session.add(group)
            groups.append(group)
        await repos.session.flush()
        velo, jardin, _old = groups
        ids.update(velo=velo.id, jardin=jardin.id)
        for n in range(20, 23):
            await repos.groups.add_member(velo.id, member(n), paris(2024, 1, 20), tz=PARIS,
                                          referent=n == 20)
        meetings = []
        for when, kind, territory, status, named, counted, guests in EVENTS:
            event = await repos.meetings.create(
                starts_at=when, ends_at=when, place="Embrun", territory=territory,
                created_by=COORD, at=when, kind=kind,
                group_id=velo.id if kind == "groupe" else None, title=f"{kind} {when:%m/%Y}")
            event.status = status
            meetings.append(event)
            await repos.meetings.set_attendance(event.id, [member(n) for n in named], when,
                                                tz=PARIS)
            if counted:
                await repos.attendance.set_headcount(event.id, "nord", counted, when)
            await repos.attendance.add_guests(
                event.id, [(f"Invité {i}", "habitant", "sud") for i in range(guests)], when)
        ids["first_event"] = meetings[0].id
        await people.took_part([member(40)], paris(2025, 4, 2, 12), 2025)
        await people.took_part([member(41)], paris(2023, 4, 2, 12), 2023)
        # Status changes (as the audit trail records them), progress, needs, funding
        for at, old, new in ((paris(2024, 6, 1), "idée", "en cours"),
                             (paris(2026, 11, 20), "en cours", "réalisé")):  # after phase 2
            await repos.audit.record(actor=member(20), subject="group", subject_id=velo.id,
                                     action="status", at=at, field="statut", old=old, new=new)
        await repos.groups.add_progress(velo.id, member(20), "12 vélos réparés", paris(2025, 2, 3))
        await repos.groups.add_progress(velo.id, member(21), "Local trouvé", paris(2026, 3, 3))
        need = await repos.groups.add_need(velo.id, "materiel", "Un pied d'atelier", member(20),
                                           paris(2024, 3, 1))
        need.met_at = paris(2025, 1, 10)
        await repos.groups.add_funding(velo.id, "Région Sud", 1_200_000, date(2025, 3, 15),
                                       COORD, paris(2025, 3, 16))
        await repos.groups.add_funding(jardin.id, "Commune d'Embrun", 150_050, date(2026, 10, 31),
                                       COORD, paris(2026, 11, 2))
        await repos.groups.add_funding(jardin.id, "Fondation", 99_900, date(2026, 11, 1),
                                       COORD, paris(2026, 11, 2))  # after phase 2
        # Actions decided at events: two at the first rencontre (one done), one in 2026
        first, spring_2026 = meetings[0], meetings[9]
        done = await repos.actions.add(meeting_id=first.id, assignee=None, group_id=velo.id,
                                       text="Chercher un local", due_at=None, created_by=COORD,
                                       created_at=first.starts_at)
        done.status, done.closed_by, done.closed_at = "faite", COORD, paris(2024, 4, 1)
        await repos.actions.add(meeting_id=first.id, assignee=member(3), group_id=None,
                                text="Écrire aux communes", due_at=None, created_by=COORD,
                                created_at=first.starts_at)
        await repos.actions.add(meeting_id=spring_2026.id, assignee=None, group_id=jardin.id,
                                text="Trouver un terrain", due_at=None, created_by=COORD,
                                created_at=spring_2026.starts_at)
        # Remontées: carried in 2024 and answered in 2025; carried in 2026; one never carried
        for made, sent, answered in ((paris(2024, 3, 1), paris(2024, 4, 1), paris(2025, 2, 1)),
                                     (paris(2025, 12, 1), paris(2026, 1, 10), None),
                                     (paris(2026, 5, 1), None, None)):
            row = await repos.remontees.add(author=member(1), room_id="!r:x",
                                            text=f"Remontée du {made:%d/%m/%Y}", at=made)
            if sent is not None:
                row.status, row.sent_at, row.sent_by = "transmise", sent, COORD
            if answered is not None:
                row.status, row.answer = "repondue", "Le conseil a voté le projet."
                row.answered_at, row.answered_by = answered, COORD
        for name, when in (("Repair café", paris(2024, 10, 1)), ("AMAP", paris(2026, 2, 1)),
                           ("Covoiturage", paris(2026, 12, 1))):
            repos.session.add(Initiative(name=name, name_key=name.casefold(), description="",
                                         theme="mobilite", commune="Embrun", contact="", link="",
                                         search_key=name.casefold(), created_by=COORD,
                                         created_at=when))
    return ids
