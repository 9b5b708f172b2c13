"""``cct-bot demo``: a local Synapse, three accounts, the club's rooms and the bot, in one command.

Everything lives in one folder (``--dir``): the homeserver's data (``synapse/``), the accounts'
passwords and the rooms' ids (``credentials.json``, mode 0600), the bot's config (``config.toml``),
database, encryption store and log. A second run reuses the same accounts and rooms.

The demo runs until Ctrl-C or SIGTERM, then stops the bot, then Synapse; whatever it started is
stopped on every path, errors included.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

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

from bot.app import Bot
from bot.config import ConfigError, load_settings
from bot.devserver import LocalSynapse, find_synapse_python, install_synapse
from bot.files import write_private
from bot.logs import RedactingFilter, formatter
from bot.redaction import Redactor

__all__ = ["run_demo"]

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_NAME = "localhost"
CREDENTIALS = "credentials.json"
CONFIG = "config.toml"
BOT_DEVICE = "CCTDEMO"
SETUP_DEVICE = "CCTDEMOSETUP"
CHARTER_FILE = REPO_ROOT / "docs" / "cadre-de-confiance.md"
STOP_TIMEOUT = 30.0

# Letters and digits that cannot be mistaken for one another when typed from the screen.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Account:
    key: str  # key in credentials.json
    localpart: str
    displayname: str

    @property
    def user_id(self) -> str:
        return f"@{self.localpart}:{SERVER_NAME}"


BOT = Account("bot", "cct-bot", "Bot du CCT")
DEMO = Account("demo", "demo", "Camille (chargée de mission)")
HABITANT = Account("habitant", "habitant", "Dominique")
ACCOUNTS = (BOT, DEMO, HABITANT)


@dataclass(frozen=True)
class ClubRoom:
    role: str  # main, north, south: the keys of [rooms] in the config
    alias_local: str
    name: str
    topic: str

    @property
    def alias(self) -> str:
        return f"#{self.alias_local}:{SERVER_NAME}"


ROOMS = (
    ClubRoom("main", "cct", "Club Climat et Transition",
             "Salon principal du Club Climat et Transition : annonces, rencontres et échanges "
             "entre membres. Tapez !aide pour découvrir le bot."),
    ClubRoom("north", "cct-nord", "CCT — Nord",
             "Groupe local du secteur nord : projets et rencontres près de chez vous."),
    ClubRoom("south", "cct-sud", "CCT — Sud",
             "Groupe local du secteur sud : projets et rencontres près de chez vous."),
)

WELCOME_MESSAGE = (
    "Ici, on prépare ensemble la transition de notre territoire : projets, rencontres et ordre "
    "du jour. Présentez-vous en quelques mots : qui êtes-vous, qu'est-ce qui vous amène ?"
)
INLINE_CHARTER = (
    "1. On s'écoute et on se respecte, même en désaccord.\n"
    "2. On parle des idées, pas des personnes.\n"
    "3. Ce qui se dit dans le club reste dans le club, sauf accord de chacun·e.\n"
    "4. Chacun·e contribue à sa mesure ; personne n'est jugé·e.\n"
    "5. Les décisions se prennent ensemble, en rencontre ou par sondage."
)


class DemoError(Exception):
    """A problem the user can act on; its message is shown as is."""


@dataclass
class Credentials:
    """The demo's secrets and room ids, kept in ``credentials.json`` (mode 0600)."""

    passwords: dict[str, str]
    rooms: dict[str, str] = field(default_factory=dict)
    created: bool = False  # True when this run made the passwords


@dataclass
class RoomsReport:
    created: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    habitant_joined: bool = False


def say(text: str = "") -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- setup steps ---------------------------------------------------------------------------------

def _generate_password(groups: int = 3) -> str:
    return "-".join("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(groups))


def _load_credentials(directory: Path) -> Credentials:
    """The saved passwords and rooms, or new passwords (saved at once) on the first run."""
    path = directory / CREDENTIALS
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            passwords = {a.key: str(data["accounts"][a.key]["password"]) for a in ACCOUNTS}
            rooms = {str(k): str(v) for k, v in dict(data.get("rooms", {})).items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise DemoError(
                f"{path} est illisible ({error}) : supprimez le dossier {directory} pour repartir "
                f"de zéro. [{path} is unreadable: delete {directory} to start over.]"
            ) from None
        os.chmod(path, 0o600)
        return Credentials(passwords, rooms)
    if (directory / "synapse" / "data").exists():
        raise DemoError(
            f"{directory / 'synapse'} existe mais {path} a disparu : les mots de passe des comptes "
            f"sont perdus. Supprimez le dossier {directory} pour repartir de zéro. "
            f"[the accounts' passwords are lost with {CREDENTIALS}: delete {directory} to start over.]"
        )
    passwords = {BOT.key: secrets.token_urlsafe(24), DEMO.key: _generate_password(),
                 HABITANT.key: _generate_password()}
    credentials = Credentials(passwords, created=True)
    _save_credentials(directory, credentials)
    return credentials


def _save_credentials(directory: Path, credentials: Credentials) -> None:
    data = {
        "homeserver_name": SERVER_NAME,
        "accounts": {a.key: {"user_id": a.user_id, "displayname": a.displayname,
                             "password": credentials.passwords[a.key]} for a in ACCOUNTS},
        "rooms": credentials.rooms,
    }
    write_private(directory / CREDENTIALS,
                  (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def _has_synapse(python: str) -> bool:
    """Whether ``python`` runs and can import synapse (a half-made virtualenv cannot)."""
    try:
        result = subprocess.run(
            [python, "-c", "import importlib.util, sys; "
                           "sys.exit(importlib.util.find_spec('synapse') is None)"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _synapse_python() -> str:
    """Synapse's interpreter; installs Synapse into ``<repo>/.venv-synapse`` when there is none."""
    python = find_synapse_python()
    if python is not None and _has_synapse(python):
        return python
    if python is not None and os.environ.get("CCT_SYNAPSE_PYTHON"):
        raise DemoError(f"CCT_SYNAPSE_PYTHON={python} ne peut pas importer synapse. "
                        f"[CCT_SYNAPSE_PYTHON={python} cannot import synapse.]")
    venv = REPO_ROOT / ".venv-synapse"
    say(f"Installation de Synapse dans {venv} (une seule fois, environ 30 s)… "
        f"[installing Synapse, once, about 30 s]")
    try:
        python = install_synapse(venv)
    except (OSError, subprocess.CalledProcessError) as error:
        shutil.rmtree(venv, ignore_errors=True)
        raise DemoError(f"l'installation de Synapse a échoué ({error}) : vérifiez l'accès à PyPI "
                        f"et relancez. [installing Synapse failed: check access to PyPI and retry.]"
                        ) from None
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    if not _has_synapse(python):
        raise DemoError(f"Synapse est introuvable dans {venv} après installation. "
                        f"[Synapse cannot be imported from {venv} after installing it.]")
    return python


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like Synapse (Twisted) does, so a socket of a previous run in TIME_WAIT is no obstacle.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _choose_port(wanted: int) -> int:
    if 0 < wanted < 65536 and _port_is_free(wanted):
        return wanted
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    say(f"Le port {wanted} est occupé : la démo utilise le port {port}. "
        f"[port {wanted} is busy: using port {port} instead]")
    return port


def _register_accounts(synapse: LocalSynapse, credentials: Credentials) -> None:
    for account in ACCOUNTS:
        user_id = synapse.register(account.localpart, credentials.passwords[account.key],
                                   displayname=account.displayname)
        if user_id != account.user_id:
            raise DemoError(f"compte inattendu {user_id} (attendu {account.user_id}) "
                            f"[unexpected account]")


def _toml(value: str | list[str]) -> str:
    """A TOML basic string (JSON escapes are valid TOML escapes) or array of them."""
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _config_text(homeserver: str, credentials: Credentials) -> str:
    if CHARTER_FILE.is_file():
        charter = f"charter_file = {_toml(str(CHARTER_FILE))}"
    else:
        charter = f"charter = {_toml(INLINE_CHARTER)}"
    rooms = "\n".join(f"{room.role} = {_toml(room.alias)}" for room in ROOMS)
    return f"""\
# Configuration de la démo, réécrite à chaque lancement de `cct-bot demo`.
# [demo configuration, rewritten by every run of `cct-bot demo`]

[matrix]
homeserver = {_toml(homeserver)}
user_id = {_toml(BOT.user_id)}
password = {_toml(credentials.passwords[BOT.key])}
device_id = {_toml(BOT_DEVICE)}
store_path = "bot-store"

[database]
url = "sqlite+aiosqlite:///cct.db"

[club]
name = "Club Climat et Transition"
language = "fr"
timezone = "Europe/Paris"
coordinators = {_toml([DEMO.user_id])}
allowed_inviters = {_toml([":" + SERVER_NAME])}
welcome_message = {_toml(WELCOME_MESSAGE)}
{charter}

[rooms]
{rooms}
"""


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


async def _prepare_rooms(homeserver: str, credentials: Credentials) -> RoomsReport:
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

def _banner(homeserver: str, directory: Path, credentials: Credentials, report: RoomsReport) -> str:
    rule = "═" * 78
    rooms = "\n".join(f"  {room.alias:<22} {room.name}" for room in ROOMS)
    if report.habitant_joined:
        welcome = ("  (Dominique a déjà rejoint le salon : le bot n'accueille chaque personne qu'une fois.\n"
                   "   [Dominique already joined: the bot welcomes each person only once.])")
    else:
        welcome = ("  Dominique a une invitation au salon « Club Climat et Transition » : en l'acceptant,\n"
                   "  le bot lui souhaite la bienvenue.\n"
                   "  [Dominique is invited to the main room: accept it to see the welcome message.]")
    return f"""
{rule}
  Démo cct-bot prête [cct-bot demo ready]
{rule}
Serveur Matrix [homeserver] : {homeserver}

Camille, chargée de mission, coordinatrice du club [coordinator]
  identifiant [username]  : {DEMO.user_id}   (ou simplement [or just] « {DEMO.localpart} »)
  mot de passe [password] : {credentials.passwords[DEMO.key]}

Dominique, habitant·e, pour voir le message d'accueil [a resident, to see the welcome message]
  identifiant [username]  : {HABITANT.user_id}   (ou simplement [or just] « {HABITANT.localpart} »)
  mot de passe [password] : {credentials.passwords[HABITANT.key]}
{welcome}

Salons [rooms] (le bot [the bot] : {BOT.user_id})
{rooms}

Se connecter avec Element [connecting with Element]
  1. Ouvrez Element Desktop (https://element.io/download) ou app.element.io.
     [Open Element Desktop or app.element.io.]
  2. « Se connecter », puis à côté du serveur d'accueil (matrix.org), cliquez « Modifier »
     et saisissez {homeserver}
     [Sign in, "Edit" the homeserver and enter {homeserver}]
  3. Identifiant « {DEMO.localpart} » et le mot de passe ci-dessus.
     [Username "{DEMO.localpart}" and the password above.]
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
  (mots de passe dans [passwords in] {CREDENTIALS} ; journal du bot [bot log] : bot.log ;
   supprimez le dossier pour repartir de zéro [delete the folder to start over])
Ctrl-C pour arrêter [Ctrl-C to stop].
{rule}"""


@contextlib.contextmanager
def _bot_log(directory: Path, redactor: Redactor) -> Iterator[None]:
    """The bot's INFO log goes to ``bot.log``, masked by ``redactor``; the console keeps
    warnings only."""
    root = logging.getLogger()
    handler = logging.FileHandler(directory / "bot.log", encoding="utf-8")
    handler.setFormatter(formatter("text"))
    handler.addFilter(RedactingFilter(redactor))
    handler.setLevel(logging.INFO)
    previous_level = root.level
    console = [(h, h.level) for h in root.handlers]
    for existing, level in console:
        if level == logging.NOTSET:
            existing.setLevel(logging.WARNING)
    root.addHandler(handler)
    root.setLevel(min(previous_level or logging.WARNING, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(previous_level)
        for existing, level in console:
            existing.setLevel(level)


# --- signals -------------------------------------------------------------------------------------

def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _say_stopping(signum: int, _frame: FrameType | None) -> None:
    say("Arrêt déjà en cours, patientez… [already stopping, please wait…]")


def _set_handlers(handler: Callable[[int, FrameType | None], None]) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


# --- the running demo ----------------------------------------------------------------------------

async def _serve(synapse: LocalSynapse, directory: Path, credentials: Credentials) -> int:
    """Rooms, config, bot; runs until a signal (0) or until Synapse dies (1)."""
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    stopping = asyncio.Event()
    bot: Bot | None = None
    result = 0

    def on_signal() -> None:
        if stopping.is_set():
            say("Arrêt déjà en cours, patientez… [already stopping, please wait…]")
            return
        stopping.set()
        say("\nArrêt demandé… [stopping…]")
        if bot is not None and bot.ready.is_set():
            bot.request_stop()
        elif main_task is not None:
            main_task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)

    report = await _prepare_rooms(synapse.url, credentials)
    _save_credentials(directory, credentials)
    if report.created:
        say(f"Salons créés [rooms created] : {', '.join(report.created)}")
    if report.reused:
        say(f"Salons réutilisés [rooms reused] : {', '.join(report.reused)}")

    config_path = directory / CONFIG
    write_private(config_path, _config_text(synapse.url, credentials).encode())
    try:
        settings = load_settings(config_path, env={})
    except ConfigError as error:
        raise DemoError(f"configuration générée invalide [invalid generated config] : {error}") from None

    say("Démarrage du bot… [starting the bot…]")
    bot = Bot(settings)
    watchdog: asyncio.Task[None] | None = None
    try:
        await bot.start()

        async def watch_synapse() -> None:
            nonlocal result
            while True:  # Synapse is a subprocess: polling it is the only way to know
                await asyncio.sleep(1)
                if not synapse.running:
                    break
            warn(f"Synapse s'est arrêté de lui-même [Synapse stopped on its own] : voir "
                 f"[see] {synapse.log_path}")
            result = 1
            assert bot is not None
            bot.request_stop()

        watchdog = asyncio.create_task(watch_synapse(), name="watch-synapse")
        say(_banner(synapse.url, directory, credentials, report))
        if stopping.is_set():  # a signal came while the bot was starting
            bot.request_stop()
        await bot.run_until_stopped()
    finally:
        stopping.set()
        if watchdog is not None:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
        say("Arrêt du bot… [stopping the bot…]")
        try:
            await asyncio.wait_for(bot.stop(), STOP_TIMEOUT)
        except Exception:
            log.exception("stopping the bot failed")
            warn("Le bot ne s'est pas arrêté proprement (voir bot.log). "
                 "[the bot did not stop cleanly, see bot.log]")
    return result


def run_demo(directory: Path, *, port: int = 8008) -> int:
    """Runs the whole demo in the foreground; returns the process exit code.

    0 after Ctrl-C or SIGTERM, 1 when something went wrong (the reason is printed).
    """
    directory = Path(directory).expanduser().resolve()
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    # SIGTERM would otherwise kill the process without cleanup, and a background job may have
    # SIGINT ignored: both interrupt the demo the same way.
    _set_handlers(_raise_interrupt)
    synapse: LocalSynapse | None = None
    result = 1
    try:
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        redactor = Redactor()
        with _bot_log(directory, redactor):
            credentials = _load_credentials(directory)
            redactor.add(*credentials.passwords.values())
            python = _synapse_python()
            chosen = _choose_port(port)
            synapse = LocalSynapse(directory / "synapse", python=python, port=chosen,
                                   server_name=SERVER_NAME)
            say(f"Démarrage de Synapse sur {synapse.url}… [starting Synapse…]")
            synapse.start()
            _register_accounts(synapse, credentials)
            if credentials.created:
                say("Comptes créés [accounts created] : "
                    + ", ".join(a.user_id for a in ACCOUNTS))
            else:
                say("Comptes réutilisés [accounts reused] : "
                    + ", ".join(a.user_id for a in ACCOUNTS))
            try:
                result = asyncio.run(_serve(synapse, directory, credentials))
            except asyncio.CancelledError:  # a signal before the bot was up
                result = 0
            finally:
                # The event loop put the default handlers back when it closed.
                _set_handlers(_raise_interrupt)
    except KeyboardInterrupt:
        say("\nInterrompu [interrupted].")
        result = 0
    except DemoError as error:
        warn(f"Erreur [error] : {error}")
        result = 1
    except Exception as error:
        log.exception("demo failed")
        warn(f"Erreur [error] : {error}")
        result = 1
    finally:
        _set_handlers(_say_stopping)
        try:
            if synapse is not None and synapse.running:
                say("Arrêt de Synapse… [stopping Synapse…]")
                synapse.stop()
                say(f"Tout est arrêté ; les données restent dans {directory}. "
                    f"[everything stopped; the data stays in {directory}]")
            elif synapse is not None:
                synapse.stop()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return result
