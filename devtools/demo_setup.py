"""The demo's accounts, rooms, secrets (``credentials.json``, 0600) and the bot's config."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.files import write_private
from devtools.devserver import LocalSynapse, find_synapse_python, install_synapse

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


def load_credentials(directory: Path) -> Credentials:
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
    save_credentials(directory, credentials)
    return credentials


def save_credentials(directory: Path, credentials: Credentials) -> None:
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


def synapse_python() -> str:
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


def choose_port(wanted: int) -> int:
    if 0 < wanted < 65536 and _port_is_free(wanted):
        return wanted
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    say(f"Le port {wanted} est occupé : la démo utilise le port {port}. "
        f"[port {wanted} is busy: using port {port} instead]")
    return port


def register_accounts(synapse: LocalSynapse, credentials: Credentials) -> None:
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


def config_text(homeserver: str, credentials: Credentials) -> str:
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


