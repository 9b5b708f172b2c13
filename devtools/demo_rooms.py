"""The demo's rooms, made as the demo person, and the banner that says how to use them."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomInviteResponse,
    RoomResolveAliasResponse,
)
from nio.api import RoomPreset

from devtools.demo_setup import (
    BOT,
    CREDENTIALS,
    DEMO,
    HABITANT,
    ROOMS,
    SETUP_DEVICE,
    ClubRoom,
    Credentials,
    DemoError,
    RoomsReport,
)

log = logging.getLogger(__name__)

# --- rooms, as the demo person -------------------------------------------------------------------

async def _membership(client: AsyncClient, room_id: str, user_id: str) -> str | None:
    response = await client.room_get_state_event(room_id, "m.room.member", user_id)
    if isinstance(response, RoomGetStateEventResponse):
        membership = response.content.get("membership")
        return str(membership) if membership else None
    return None


async def _invite_unless_present(client: AsyncClient, room_id: str, user_id: str) -> str | None:
    """Invites ``user_id`` unless already joined or invited; returns the previous membership."""
    membership = await _membership(client, room_id, user_id)
    if membership in ("join", "invite"):
        return membership
    response = await client.room_invite(room_id, user_id)
    if not isinstance(response, RoomInviteResponse):
        raise DemoError(f"impossible d'inviter {user_id} dans {room_id} ({response}) "
                        f"[cannot invite {user_id}]")
    return membership


async def _ensure_room(client: AsyncClient, room: ClubRoom, report: RoomsReport) -> str:
    resolved = await client.room_resolve_alias(room.alias)
    if isinstance(resolved, RoomResolveAliasResponse):
        report.reused.append(room.alias)
        room_id = str(resolved.room_id)
        if await _membership(client, room_id, DEMO.user_id) != "join":
            raise DemoError(f"{DEMO.user_id} n'est plus dans {room.alias} : supprimez le dossier de "
                            f"la démo pour repartir de zéro. [{DEMO.user_id} left {room.alias}: "
                            f"delete the demo folder to start over.]")
        return room_id
    created = await client.room_create(
        alias=room.alias_local, name=room.name, topic=room.topic, preset=RoomPreset.private_chat,
        invite=[BOT.user_id], federate=False,
        # The bot is a moderator: it may pin the agenda and post in every room.
        power_level_override={"users": {BOT.user_id: 50}},
    )
    if not isinstance(created, RoomCreateResponse):
        raise DemoError(f"impossible de créer {room.alias} ({created}) [cannot create {room.alias}]")
    report.created.append(room.alias)
    return str(created.room_id)


async def prepare_rooms(homeserver: str, credentials: Credentials) -> RoomsReport:
    """As the demo person: the club's rooms (made once), the bot and Dominique invited."""
    config = AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False, request_timeout=60)
    client = AsyncClient(homeserver, DEMO.user_id, device_id=SETUP_DEVICE, config=config)
    report = RoomsReport()
    # nio logs a warning when an alias does not resolve (an error body fails the success schema):
    # on a first run that is expected, so it stays out of the console.
    responses_log = logging.getLogger("nio.responses")
    previous_level = responses_log.level
    responses_log.setLevel(logging.ERROR)
    try:
        login = await client.login(credentials.passwords[DEMO.key], device_name="cct-bot demo (setup)")
        if not isinstance(login, LoginResponse):
            raise DemoError(f"connexion de {DEMO.user_id} refusée ({login}) : supprimez le dossier de "
                            f"la démo pour repartir de zéro. [login refused: delete the demo folder "
                            f"to start over.]")
        try:
            for room in ROOMS:
                room_id = await _ensure_room(client, room, report)
                credentials.rooms[room.role] = room_id
                await _invite_unless_present(client, room_id, BOT.user_id)
                if room.role == "main":
                    before = await _invite_unless_present(client, room_id, HABITANT.user_id)
                    report.habitant_joined = before == "join"
        finally:
            with contextlib.suppress(Exception):
                await client.logout()  # also deletes the setup device
    finally:
        responses_log.setLevel(previous_level)
        await client.close()
    return report


# --- output --------------------------------------------------------------------------------------

_BANNER = """
{rule}
  Démo cct-bot prête [cct-bot demo ready]
{rule}
Serveur Matrix [homeserver] : {homeserver}

Camille, chargée de mission, coordinatrice du club [coordinator]
  identifiant [username]  : {demo.user_id}   (ou simplement [or just] « {demo.localpart} »)
  mot de passe [password] : {demo_password}

Dominique, habitant·e, pour voir le message d'accueil [a resident, to see the welcome message]
  identifiant [username]  : {habitant.user_id}   (ou simplement [or just] « {habitant.localpart} »)
  mot de passe [password] : {habitant_password}
{welcome}

Salons [rooms] (le bot [the bot] : {bot.user_id})
{rooms}

Se connecter avec Element [connecting with Element]
  1. Ouvrez Element Desktop (https://element.io/download) ou app.element.io.
     [Open Element Desktop or app.element.io.]
  2. « Se connecter », puis à côté du serveur d'accueil (matrix.org), cliquez « Modifier »
     et saisissez {homeserver}
     [Sign in, "Edit" the homeserver and enter {homeserver}]
  3. Identifiant « {demo.localpart} » et le mot de passe ci-dessus.
     [Username "{demo.localpart}" and the password above.]
  Attention : une page https (app.element.io) ne peut pas joindre un serveur http local dans
  certains navigateurs. Element Desktop ou toute application native fonctionne.
  [A https web client cannot reach an http localhost server in some browsers;
   Element Desktop or any native client works.]

À taper d'abord dans « Club Climat et Transition » [type first in the main room] :
  !aide     la liste des commandes [the list of commands]
  !ping     le bot répond « pong » [the bot answers "pong"]
  !cadre    le cadre de confiance du club [the club's charter]
  !projet creer Atelier vélo --theme mobilité --territoire sud
            un groupe-projet [a project group] ; puis !projet liste
  !rappel dans 2 minutes tester les rappels
            un rappel [a reminder] ; !rappel liste
  !rencontre planifier samedi prochain 10h --lieu Salle des fêtes
            une rencontre (la personne « demo » coordonne) [a rencontre]

Données de la démo [demo data] : {directory}
  (mots de passe dans [passwords in] {credentials_file} ; journal du bot [bot log] : bot.log ;
   supprimez le dossier pour repartir de zéro [delete the folder to start over])
Ctrl-C pour arrêter [Ctrl-C to stop].
{rule}"""


def banner(homeserver: str, directory: Path, credentials: Credentials, report: RoomsReport) -> str:
    """What the demo prints once it is ready: the accounts, rooms, how to connect, what to type."""
    rooms = "\n".join(f"  {room.alias:<22} {room.name}" for room in ROOMS)
    if report.habitant_joined:
        welcome = ("  (Dominique a déjà rejoint le salon : le bot n'accueille chaque personne qu'une fois.\n"
                   "   [Dominique already joined: the bot welcomes each person only once.])")
    else:
        welcome = ("  Dominique a une invitation au salon « Club Climat et Transition » : en l'acceptant,\n"
                   "  le bot lui souhaite la bienvenue.\n"
                   "  [Dominique is invited to the main room: accept it to see the welcome message.]")
    return _BANNER.format(
        rule="═" * 78, homeserver=homeserver, directory=directory, rooms=rooms, welcome=welcome,
        demo=DEMO, habitant=HABITANT, bot=BOT, credentials_file=CREDENTIALS,
        demo_password=credentials.passwords[DEMO.key],
        habitant_password=credentials.passwords[HABITANT.key])


