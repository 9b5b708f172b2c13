"""The permission and visibility matrix: every declared command × every person × every place,
allowed or refused (a refusal changes nothing), generated from the command declarations so
that a new command cannot forget its rule.

Persons: a visitor (in none of the club's rooms), a participant (a club member in no group), a
member of group 1, its referent, a coordinator. Places: a club room, the group's room, a direct
message with the bot, another room (whose readers may not be club members; a visitor is only
ever in such rooms or in a direct message). The declaration decides who may run a command
(``role``: visitors only run ``VISITOR`` ones, coordinators' ones are theirs) and where
(``names_people``: never in another room); the handler decides what depends on the group or on
who made the thing ("member", "referent", "owner" in the table below)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from commands import build_registry
from commands.context import Place
from commands.registry import Command
from commands.roles import Role
from storage.models import Base
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness
from tests.handlers.conftest import both_db as db  # noqa: F401  (SQLite and PostgreSQL)

VISITOR, PARTICIPANT, MEMBER = "@visitor:elsewhere.org", "@paul:example.org", "@mia:example.org"
OWNER = "@dave:example.org"
PERSONS = {"visitor": VISITOR, "participant": PARTICIPANT, "member": MEMBER, "referent": ALICE,
           "coordinator": COORDINATOR}
ORDER = list(PERSONS)
ROLES = {"visitor": Role.VISITOR, "coordinator": Role.COORDINATOR}
PLACES = {"club": (ROOM, Place.CLUB), "group": ("!velo:example.org", Place.GROUP),
          "direct": ("!direct:example.org", Place.DIRECT),
          "other": ("!partners:elsewhere.org", Place.OTHER)}
VISITOR_PLACES = ("direct", "other")
SEEDED_PEOPLE = (ALICE, MEMBER, OWNER, "alice", "mia", "dave")
DENIED = re.compile(r"^(Réservé à la coordination|Réservé aux membres du club|Seule?s "
                    r"|L'historique .* est réservé|Cette réponse nomme des membres"
                    r"|Le rappel n°\d+ n'est pas le vôtre|Un rappel pour tout le salon est réservé"
                    r"|Seul·e l'auteur·e|Seul l'auteur)")

# command key → (a line that uses it, what the handler itself requires beyond the declaration:
# nothing, membership of group 1, being its referent, or having made the thing)
TABLE: dict[str, tuple[str, str]] = {
    "aide": ("!aide", "nothing"),
    "ping": ("!ping", "nothing"),
    "cadre": ("!cadre", "nothing"),
    "cadre.adherer": ("!cadre adherer", "nothing"),
    "cadre.adhesions": ("!cadre adhesions", "nothing"),
    "cadre.proposer": ("!cadre proposer 2 --cloture vendredi 18h\nUn texte.", "nothing"),
    "quitter-salon": ("!quitter-salon", "nothing"),
    "projet.liste": ("!projet liste", "nothing"),
    "projet.info": ("!projet info 1", "nothing"),
    "projet.membres": ("!projet membres 1", "nothing"),
    "projet.historique": ("!projet historique 1", "referent"),
    "projet.creer": ("!projet creer Nouveau groupe", "nothing"),
    "projet.rejoindre": ("!projet rejoindre 1", "nothing"),
    "projet.quitter": ("!projet quitter 1", "nothing"),
    "projet.avancement": ("!projet avancement 1 ça avance", "member"),
    "projet.besoin": ("!projet besoin 1 du matériel", "referent"),
    "projet.statut": ("!projet statut 1 en cours", "referent"),
    "projet.financement": ("!projet financement 1 12000 Région Sud", "referent"),
    "projet.modifier": ("!projet modifier 1 description nouvelle", "referent"),
    "projet.referent": ("!projet referent 1 @mia:example.org", "referent"),
    "projet.archiver": ("!projet archiver 1", "referent"),
    "projet.salon": ("!projet salon 1", "referent"),
    "mesprojets": ("!mesprojets", "nothing"),
    "initiative.ajouter": ("!initiative ajouter Autre initiative --theme énergie --commune Gap",
                           "nothing"),
    "initiative.chercher": ("!initiative chercher repair", "nothing"),
    "initiative.liste": ("!initiative liste", "nothing"),
    "initiative.info": ("!initiative info 1", "nothing"),
    "initiative.retirer": ("!initiative retirer 1", "owner"),
    "sondage.dates": ("!sondage dates Quand ? | 20/01 18h | 21/01 18h", "referent-here"),
    "sondage.resultats": ("!sondage resultats 1", "nothing"),
    "sondage.liste": ("!sondage liste", "nothing"),
    "sondage.choisir": ("!sondage choisir 1 1", "coordinator"),
    "sondage.cloturer": ("!sondage cloturer 1", "coordinator"),
    "vote": ("!vote 1 1+", "nothing"),
    "sondage.question": ("!sondage question Quoi ? | A | B", "club-here"),
    "proposition": ("!proposition Un local --cloture vendredi 18h", "club-here"),
    "proposition.resultats": ("!proposition resultats 1", "nothing"),
    "proposition.cloturer": ("!proposition cloturer 1", "coordinator"),
    "proposition.issue": ("!proposition issue 1 Adoptée", "coordinator"),
    "position": ("!position 1 d'accord", "nothing"),
    "decisions": ("!decisions", "nothing"),
    "commenter": ("!commenter 1 Le 12 me va", "nothing"),
    "mentions": ("!mentions oui", "nothing"),
    "rencontre.liste": ("!rencontre liste", "nothing"),
    "programme": ("!programme", "nothing"),
    "calendrier": ("!calendrier", "nothing"),
    "rencontre.info": ("!rencontre info 1", "nothing"),
    "rencontre.ics": ("!rencontre ics 1", "nothing"),
    "rencontre.present": ("!rencontre present 1", "nothing"),
    "rencontre.absent": ("!rencontre absent 1", "nothing"),
    "rencontre.peutetre": ("!rencontre peutetre 1", "nothing"),
    "rencontre.planifier": ("!rencontre planifier 10/02 18h", "referent-here"),
    "rencontre.reporter": ("!rencontre reporter 1 11/02 18h", "coordinator"),
    "rencontre.annuler": ("!rencontre annuler 1 neige", "coordinator"),
    "rencontre.presences": ("!rencontre presences 1 @mia:example.org", "coordinator"),
    "rencontre.compte-rendu": ("!rencontre compte-rendu 1 https://pad.example.org",
                               "coordinator"),
    "rencontre.modifier": ("!rencontre modifier 1 --titre Bilan", "coordinator"),
    "rencontre.effectif": ("!rencontre effectif 1 3 elus", "coordinator"),
    "rencontre.invite": ("!rencontre invite 1 Marie Durand", "coordinator"),
    "rencontre.feuille": ("!rencontre feuille 1", "coordinator"),
    "rencontre.oublier-invite": ("!rencontre oublier-invite 1 Marie Durand", "coordinator"),
    "rencontre.action": ("!rencontre action 1 @mia:example.org Faire le devis", "owner"),
    "actions": ("!actions", "nothing"),
    "action.fait": ("!action fait 1", "owner"),
    "action.annuler": ("!action annuler 1", "owner"),
    "rappel": ("!rappel demain 9h appeler", "nothing"),
    "rappel.salon": ("!rappel salon demain 9h réunion", "member-here"),
    "rappel.chaque": ("!rappel chaque lundi 9h point", "nothing"),
    "rappel.liste": ("!rappel liste", "nothing"),
    "rappel.annuler": ("!rappel annuler {reminder}", "owner"),
    "rappel.reporter": ("!rappel reporter {reminder} demain 10h", "owner"),
    "odj.proposer": ("!odj proposer Un point de plus", "nothing"),
    "odj.liste": ("!odj liste", "nothing"),
    "odj.soutenir": ("!odj soutenir 1", "nothing"),
    "odj.retirer-soutien": ("!odj retirer-soutien 1", "nothing"),
    "odj.retirer": ("!odj retirer 1", "owner"),
    "odj.accepter": ("!odj accepter 1", "nothing"),
    "odj.refuser": ("!odj refuser 1 hors sujet", "nothing"),
    "odj.ajouter": ("!odj ajouter Accueil", "nothing"),
    "odj.modifier": ("!odj modifier 1 --duree 20min", "nothing"),
    "odj.deplacer": ("!odj deplacer 1 1", "nothing"),
    "odj.supprimer": ("!odj supprimer 1", "nothing"),
    "odj.tour": ("!odj tour", "nothing"),
    "odj.brouillon": ("!odj brouillon", "nothing"),
    "odj.publier": ("!odj publier", "nothing"),
    "remontee": ("!remontee Des pistes cyclables", "nothing"),
    "remontee.liste": ("!remontee liste", "nothing"),
    "remontee.transmettre": ("!remontee transmettre 1", "nothing"),
    "remontee.reponse": ("!remontee reponse 1 Le conseil étudie", "nothing"),
    "remontee.soutenir": ("!remontee soutenir 1", "nothing"),
    "remontee.retirer-soutien": ("!remontee retirer-soutien 1", "nothing"),
    "profil": ("!profil commune Guillestre", "nothing"),
    "stats": ("!stats", "nothing"),
    "bilan": ("!bilan", "nothing"),
    "mes_donnees": ("!mes-donnees", "nothing"),
    "oublier_moi": ("!oublier-moi", "nothing"),
}
# Who passes the handler's own check: a coordinator passes every one (an "owner" command acts on
# something Dave made: only he and the coordinators may; "member-here": the group's members in
# the group's own room; "referent-here": the group's referents in the group's own room, for the
# group; "club-here": any club member in a group's room, for the group; "coordinator": the
# club's rencontre 1 and poll 1, the coordinators' only).
HANDLER_ALLOWS = {"nothing": set(ORDER), "club": set(ORDER), "club-here": {"coordinator"},
                  "member": {"member", "referent", "coordinator"},
                  "referent": {"referent", "coordinator"}, "owner": {"coordinator"},
                  "member-here": {"coordinator"}, "referent-here": {"coordinator"},
                  "coordinator": {"coordinator"}}
REGISTRY = build_registry()


def allowed(command: Command, person: str, place: str) -> bool:
    """What the declaration and the handler's own rule say."""
    role = ROLES.get(person, Role.PARTICIPANT)
    declared = role >= command.role or (command.role == Role.REFERENT and role > Role.VISITOR)
    if command.names_people and PLACES[place][1] is Place.OTHER:
        declared = False
    rule = TABLE[command.key][1]
    if rule.endswith("-here") and place == "group":
        rule = rule.removesuffix("-here")
    return declared and person in HANDLER_ALLOWS[rule]


def cases() -> list[tuple[str, str]]:
    return [(person, place) for person in ORDER
            for place in (VISITOR_PLACES if person == "visitor" else PLACES)]


def test_the_table_covers_every_command() -> None:
    keys = {c.key for c in REGISTRY.walk() if c.handler is not None}
    assert keys == set(TABLE), (keys ^ set(TABLE))


def test_visitors_run_only_what_needs_no_membership() -> None:
    open_to_all = {c.key for c in REGISTRY.walk() if c.handler and c.role == Role.VISITOR}
    assert open_to_all == {"aide", "ping", "cadre", "mes_donnees", "oublier_moi"}


async def everything(bot: Harness) -> str:
    """Every row of every table but the commands and their replies: what a refusal must leave
    unchanged (participation included)."""
    async with bot.db.transaction() as repos:
        parts = []
        for table in Base.metadata.sorted_tables:
            if table.name in ("inbox", "bot_state"):
                continue
            query = select(table)
            if table.name == "outbox":
                query = query.where(~table.c.txn_id.like("cct-reply-%"))
            if table.name == "outbox_people":  # who the replies concern
                replies = select(Base.metadata.tables["outbox"].c.id).where(
                    Base.metadata.tables["outbox"].c.txn_id.like("cct-reply-%"))
                query = query.where(table.c.outbox_id.not_in(replies))
            parts.append(repr(sorted(map(repr, (await repos.session.execute(query)).all()))))
        return "\n".join(parts)


async def club(bot: Harness) -> int:
    """Group 1 (referent Alice, member Mia, its room), rencontre 1 (organised by the
    coordinator), poll 1, and Dave's initiative, reminder, suggestion, remontée and action."""
    bot.roles.update({VISITOR: Role.VISITOR, COORDINATOR: Role.COORDINATOR})
    bot.places.update({room: place for room, place in PLACES.values()})
    steps = [("!projet creer Atelier vélo", ALICE), ("!projet rejoindre 1", MEMBER),
             ("!rencontre planifier 05/02 18h30", COORDINATOR),
             ("!sondage dates Quand ? | 12/01 18h | 13/01 18h", COORDINATOR),
             ("!initiative ajouter Repair café --theme biens --commune Gap", OWNER),
             ("!rappel demain 9h appeler", OWNER), ("!odj proposer Le loup", OWNER),
             ("!remontee Plus de bus", OWNER)]
    for body, sender in steps:
        sent = await bot.command(body, sender=sender)
        assert sent and not DENIED.match(str(sent[0].content["body"])), (body, sent)
    async with bot.db.transaction() as repos:
        (await repos.groups.get(1)).room_id = PLACES["group"][0]  # type: ignore[union-attr]
        await repos.actions.add(meeting_id=1, assignee=OWNER, group_id=None, text="Le devis",
                                due_at=None, created_by=COORDINATOR, created_at=bot.clock.now())
        return (await repos.reminders.pending_of(OWNER))[0].id  # after the rencontre's own


async def run(bot: Harness, body: str, person: str, place: str) -> str:
    sent = await bot.command(body, sender=PERSONS[person], room_id=PLACES[place][0])
    return str(sent[0].content.get("body", "")) if sent else ""


@pytest.mark.parametrize("key", sorted(TABLE))
async def test_permission_and_visibility_matrix(bot: Harness, key: str) -> None:
    command = REGISTRY.by_key(key)
    assert command is not None
    body = TABLE[key][0].format(reminder=await club(bot))
    refused = [case for case in cases() if not allowed(command, *case)]
    for person, place in refused:  # refusals first: they must change nothing
        before = await everything(bot)
        reply = await run(bot, body, person, place)
        assert DENIED.match(reply), (key, person, place, reply)
        assert await everything(bot) == before, (key, person, place)
    for place in PLACES:  # then, in each place, the least person allowed there
        person = next((p for p, where in cases() if where == place and allowed(command, p, place)),
                      None)
        if person is None:
            continue
        reply = await run(bot, body, person, place)
        assert not DENIED.match(reply), (key, person, place, reply)
        if person == "visitor":  # nothing of the club's people reaches a visitor
            assert not any(name in reply.lower() for name in SEEDED_PEOPLE), (key, reply)


async def test_a_visitor_is_told_how_to_join(bot: Harness) -> None:
    bot.roles[VISITOR] = Role.VISITOR
    bot.dispatcher.club = bot.dispatcher.club.__class__(**{
        **bot.dispatcher.club.__dict__, "entrance": "#cct:example.org"})
    reply = await run(bot, "!projet liste", "visitor", "direct")
    assert reply == ("Réservé aux membres du club. Pour participer, rejoignez le salon du club "
                     "#cct:example.org, puis recommencez. En attendant : `!aide`, `!cadre`.")
    help_text = await run(bot, "!aide", "visitor", "direct")
    assert "`!cadre`" in help_text and "`!projet`" not in help_text and "`!vote`" not in help_text
    assert help_text.endswith("rejoignez le salon du club #cct:example.org pour participer.")
    member_help = await run(bot, "!aide", "participant", "club")
    assert "`!projet`" in member_help and "rejoignez" not in member_help
