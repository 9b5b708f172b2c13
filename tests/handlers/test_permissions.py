"""The permission table: every command × every role, allowed or refused (a refusal changes
nothing). Roles: a stranger writing in a room the club did not configure, a participant, a
member of group 1, its referent, a coordinator; "owner" commands act on something another
person made (only its maker and the coordinators may)."""

from __future__ import annotations

import re

import pytest

from commands import build_registry
from commands.registry import Role
from tests.handlers.conftest import ALICE, COORDINATOR, ROOM, Harness
from tests.handlers.test_projects import snapshot

STRANGER, PARTICIPANT, MEMBER = "@stranger:elsewhere.org", "@paul:example.org", "@mia:example.org"
OWNER = "@dave:example.org"
ROLES = {"stranger": STRANGER, "participant": PARTICIPANT, "member": MEMBER, "referent": ALICE,
         "coordinator": COORDINATOR}
ORDER = list(ROLES)
UNCONFIGURED = "!unconfigured:elsewhere.org"
DENIED = re.compile(r"^(Réservé à la coordination|Seuls |L'historique .* est réservé"
                    r"|Le rappel n°\d+ n'est pas le vôtre|Un rappel pour tout le salon est réservé"
                    r"|Seul·e l'auteur·e|Seul l'auteur)")

# command key → (a line that uses it, the least role allowed: everyone, member, referent,
# owner or coordinator)
TABLE: dict[str, tuple[str, str]] = {
    "aide": ("!aide", "everyone"),
    "ping": ("!ping", "everyone"),
    "cadre": ("!cadre", "everyone"),
    "quitter-salon": ("!quitter-salon", "coordinator"),
    "projet.liste": ("!projet liste", "everyone"),
    "projet.info": ("!projet info 1", "everyone"),
    "projet.membres": ("!projet membres 1", "everyone"),
    "projet.historique": ("!projet historique 1", "referent"),
    "projet.creer": ("!projet creer Nouveau groupe", "everyone"),
    "projet.rejoindre": ("!projet rejoindre 1", "everyone"),
    "projet.quitter": ("!projet quitter 1", "everyone"),
    "projet.avancement": ("!projet avancement 1 ça avance", "member"),
    "projet.besoin": ("!projet besoin 1 du matériel", "referent"),
    "projet.statut": ("!projet statut 1 en cours", "referent"),
    "projet.modifier": ("!projet modifier 1 description nouvelle", "referent"),
    "projet.referent": ("!projet referent 1 @zoe:example.org", "referent"),
    "projet.archiver": ("!projet archiver 1", "referent"),
    "projet.salon": ("!projet salon 1", "referent"),
    "mesprojets": ("!mesprojets", "everyone"),
    "initiative.ajouter": ("!initiative ajouter Autre initiative --theme énergie --commune Gap",
                           "everyone"),
    "initiative.chercher": ("!initiative chercher repair", "everyone"),
    "initiative.liste": ("!initiative liste", "everyone"),
    "initiative.info": ("!initiative info 1", "everyone"),
    "initiative.retirer": ("!initiative retirer 1", "owner"),
    "sondage.dates": ("!sondage dates Quand ? | 20/01 18h | 21/01 18h", "coordinator"),
    "sondage.resultats": ("!sondage resultats 1", "everyone"),
    "sondage.liste": ("!sondage liste", "everyone"),
    "sondage.choisir": ("!sondage choisir 1 1", "coordinator"),
    "sondage.cloturer": ("!sondage cloturer 1", "coordinator"),
    "vote": ("!vote 1 1+", "everyone"),
    "mentions": ("!mentions oui", "everyone"),
    "rencontre.liste": ("!rencontre liste", "everyone"),
    "rencontre.info": ("!rencontre info 1", "everyone"),
    "rencontre.ics": ("!rencontre ics 1", "everyone"),
    "rencontre.present": ("!rencontre present 1", "everyone"),
    "rencontre.absent": ("!rencontre absent 1", "everyone"),
    "rencontre.peutetre": ("!rencontre peutetre 1", "everyone"),
    "rencontre.planifier": ("!rencontre planifier 10/02 18h", "coordinator"),
    "rencontre.reporter": ("!rencontre reporter 1 11/02 18h", "coordinator"),
    "rencontre.annuler": ("!rencontre annuler 1 neige", "coordinator"),
    "rencontre.presences": ("!rencontre presences 1 @a:example.org", "coordinator"),
    "rencontre.compte-rendu": ("!rencontre compte-rendu 1 https://pad.example.org", "coordinator"),
    "rappel": ("!rappel demain 9h appeler", "everyone"),
    "rappel.salon": ("!rappel salon demain 9h réunion", "coordinator"),
    "rappel.chaque": ("!rappel chaque lundi 9h point", "everyone"),
    "rappel.liste": ("!rappel liste", "everyone"),
    "rappel.annuler": ("!rappel annuler {reminder}", "owner"),
    "rappel.reporter": ("!rappel reporter {reminder} demain 10h", "owner"),
    "odj.proposer": ("!odj proposer Un point de plus", "everyone"),
    "odj.liste": ("!odj liste", "everyone"),
    "odj.soutenir": ("!odj soutenir 1", "everyone"),
    "odj.retirer-soutien": ("!odj retirer-soutien 1", "everyone"),
    "odj.retirer": ("!odj retirer 1", "owner"),
    "odj.accepter": ("!odj accepter 1", "coordinator"),
    "odj.refuser": ("!odj refuser 1 hors sujet", "coordinator"),
    "odj.ajouter": ("!odj ajouter Accueil", "coordinator"),
    "odj.modifier": ("!odj modifier 1 --duree 20min", "coordinator"),
    "odj.deplacer": ("!odj deplacer 1 1", "coordinator"),
    "odj.supprimer": ("!odj supprimer 1", "coordinator"),
    "odj.tour": ("!odj tour", "coordinator"),
    "odj.brouillon": ("!odj brouillon", "coordinator"),
    "odj.publier": ("!odj publier", "coordinator"),
    "remontee": ("!remontee Des pistes cyclables", "everyone"),
    "remontee.liste": ("!remontee liste", "everyone"),
    "remontee.transmettre": ("!remontee transmettre 1", "coordinator"),
    "remontee.reponse": ("!remontee reponse 1 Le conseil étudie", "coordinator"),
    "profil": ("!profil commune Guillestre", "everyone"),
    "stats": ("!stats", "coordinator"),
    "bilan": ("!bilan", "coordinator"),
    "mes_donnees": ("!mes-donnees", "everyone"),
    "oublier_moi": ("!oublier-moi", "everyone"),
}
ALLOWED = {"everyone": set(ORDER), "member": {"member", "referent", "coordinator"},
           "referent": {"referent", "coordinator"}, "owner": {"coordinator"},
           "coordinator": {"coordinator"}}


def test_the_table_covers_every_command() -> None:
    keys = {c.key for c in build_registry().walk() if c.handler is not None}
    assert keys == set(TABLE), (keys ^ set(TABLE))


async def club(bot: Harness) -> int:
    """Group 1 (referent Alice, member Mia), rencontre 1, poll 1, and Dave's initiative,
    reminder, suggestion and remontée."""
    bot.roles[COORDINATOR] = Role.COORDINATOR
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
        return (await repos.reminders.pending_of(OWNER))[0].id  # after the rencontre's own


@pytest.mark.parametrize("key", sorted(TABLE))
async def test_permission_table(bot: Harness, key: str) -> None:
    template, least = TABLE[key]
    body = template.format(reminder=await club(bot))
    allowed = ALLOWED[least]
    for role in ORDER:  # refusals first: they must change nothing
        if role in allowed:
            continue
        before = await snapshot(bot)
        room = UNCONFIGURED if role == "stranger" else ROOM
        sent = await bot.command(body, sender=ROLES[role], room_id=room)
        reply = str(sent[0].content["body"]) if sent else ""
        assert DENIED.match(reply), (key, role, reply)
        assert await snapshot(bot) == before, (key, role)
    first = next(role for role in ORDER if role in allowed)
    room = UNCONFIGURED if first == "stranger" else ROOM
    sent = await bot.command(body, sender=ROLES[first], room_id=room)
    reply = str(sent[0].content["body"]) if sent and "body" in sent[0].content else ""
    assert not DENIED.match(reply), (key, first, reply)
