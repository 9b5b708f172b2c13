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
import logging
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from bot.app import Bot
from bot.config import load_settings
from bot.files import write_private
from bot.logs import RedactingFilter, formatter
from bot.redaction import Redactor
from bot.settings import ConfigError, Settings
from devtools.demo_rooms import banner, prepare_rooms
from devtools.demo_setup import (
    ACCOUNTS,
    CONFIG,
    SERVER_NAME,
    STOP_TIMEOUT,
    Credentials,
    DemoError,
    RoomsReport,
    choose_port,
    config_text,
    load_credentials,
    register_accounts,
    save_credentials,
    say,
    synapse_python,
    warn,
)
from devtools.devserver import LocalSynapse

__all__ = ["run_demo"]

log = logging.getLogger(__name__)

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

class _Serving:
    """The running demo: the bot once made, whether it is stopping, the exit code."""

    def __init__(self, synapse: LocalSynapse) -> None:
        self.synapse = synapse
        self.bot: Bot | None = None
        self.stopping = asyncio.Event()
        self.result = 0

    def on_signal(self, main_task: asyncio.Task[object] | None) -> None:
        if self.stopping.is_set():
            say("Arrêt déjà en cours, patientez… [already stopping, please wait…]")
            return
        self.stopping.set()
        say("\nArrêt demandé… [stopping…]")
        if self.bot is not None and self.bot.ready.is_set():
            self.bot.request_stop()
        elif main_task is not None:
            main_task.cancel()

    async def watch_synapse(self) -> None:
        """Stops the bot if Synapse dies (a subprocess: polling it is the only way to know)."""
        while True:
            await asyncio.sleep(1)
            if not self.synapse.running:
                break
        warn(f"Synapse s'est arrêté de lui-même [Synapse stopped on its own] : voir "
             f"[see] {self.synapse.log_path}")
        self.result = 1
        if self.bot is not None:
            self.bot.request_stop()


async def _settings(synapse: LocalSynapse, directory: Path,
                    credentials: Credentials) -> tuple[Settings, RoomsReport]:
    """The rooms made or found, the credentials saved, the bot's config written and read."""
    report = await prepare_rooms(synapse.url, credentials)
    save_credentials(directory, credentials)
    if report.created:
        say(f"Salons créés [rooms created] : {', '.join(report.created)}")
    if report.reused:
        say(f"Salons réutilisés [rooms reused] : {', '.join(report.reused)}")
    config_path = directory / CONFIG
    write_private(config_path, config_text(synapse.url, credentials).encode())
    try:
        return load_settings(config_path, env={}), report
    except ConfigError as error:
        raise DemoError(f"configuration générée invalide [invalid generated config] : {error}") from None


async def _serve(synapse: LocalSynapse, directory: Path, credentials: Credentials) -> int:
    """Rooms, config, bot; runs until a signal (0) or until Synapse dies (1)."""
    serving = _Serving(synapse)
    loop, main_task = asyncio.get_running_loop(), asyncio.current_task()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, serving.on_signal, main_task)
    settings, report = await _settings(synapse, directory, credentials)
    say("Démarrage du bot… [starting the bot…]")
    bot = serving.bot = Bot(settings)
    watchdog: asyncio.Task[None] | None = None
    try:
        await bot.start()
        watchdog = asyncio.create_task(serving.watch_synapse(), name="watch-synapse")
        say(banner(synapse.url, directory, credentials, report))
        if serving.stopping.is_set():  # a signal came while the bot was starting
            bot.request_stop()
        await bot.run_until_stopped()
    finally:
        serving.stopping.set()
        if watchdog is not None:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
        await _stop_bot(bot)
    return serving.result


async def _stop_bot(bot: Bot) -> None:
    say("Arrêt du bot… [stopping the bot…]")
    try:
        await asyncio.wait_for(bot.stop(), STOP_TIMEOUT)
    except Exception:
        log.exception("stopping the bot failed")
        warn("Le bot ne s'est pas arrêté proprement (voir bot.log). "
             "[the bot did not stop cleanly, see bot.log]")


def _start_synapse(directory: Path, credentials: Credentials, port: int) -> LocalSynapse:
    """Synapse started in ``directory/synapse``, the demo's accounts registered."""
    synapse = LocalSynapse(directory / "synapse", python=synapse_python(),
                           port=choose_port(port), server_name=SERVER_NAME)
    say(f"Démarrage de Synapse sur {synapse.url}… [starting Synapse…]")
    synapse.start()
    register_accounts(synapse, credentials)
    made = "créés [accounts created]" if credentials.created else "réutilisés [accounts reused]"
    say(f"Comptes {made} : " + ", ".join(a.user_id for a in ACCOUNTS))
    return synapse


def _run(directory: Path, port: int, started: list[LocalSynapse]) -> int:
    """The demo in ``directory`` (its Synapse put in ``started`` once made)."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    redactor = Redactor()
    with _bot_log(directory, redactor):
        credentials = load_credentials(directory)
        redactor.add(*credentials.passwords.values())
        started.append(_start_synapse(directory, credentials, port))
        try:
            return asyncio.run(_serve(started[0], directory, credentials))
        except asyncio.CancelledError:  # a signal before the bot was up
            return 0
        finally:
            # The event loop put the default handlers back when it closed.
            _set_handlers(_raise_interrupt)


def _stop_synapse(started: list[LocalSynapse], directory: Path) -> None:
    for synapse in started:
        if synapse.running:
            say("Arrêt de Synapse… [stopping Synapse…]")
            synapse.stop()
            say(f"Tout est arrêté ; les données restent dans {directory}. "
                f"[everything stopped; the data stays in {directory}]")
        else:
            synapse.stop()


def run_demo(directory: Path, *, port: int = 8008) -> int:
    """Runs the whole demo in the foreground; returns the process exit code.

    0 after Ctrl-C or SIGTERM, 1 when something went wrong (the reason is printed).
    """
    directory = Path(directory).expanduser().resolve()
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    # SIGTERM would otherwise kill the process without cleanup, and a background job may have
    # SIGINT ignored: both interrupt the demo the same way.
    _set_handlers(_raise_interrupt)
    started: list[LocalSynapse] = []
    try:
        return _run(directory, port, started)
    except KeyboardInterrupt:
        say("\nInterrompu [interrupted].")
        return 0
    except DemoError as error:
        warn(f"Erreur [error] : {error}")
        return 1
    except Exception as error:
        log.exception("demo failed")
        warn(f"Erreur [error] : {error}")
        return 1
    finally:
        _set_handlers(_say_stopping)
        try:
            _stop_synapse(started, directory)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
