"""``cct-bot``: run, check-config, db upgrade, db backup, export, keys reset, demo, version."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import traceback
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from bot.app import Bot, settle_memory
from bot.club import bot_version, club_of
from bot.config import load_settings
from bot.cross_signing import CrossSigning, CrossSigningError, KeyFiles, PasswordNeeded
from bot.files import write_private
from bot.login import prepared_client
from bot.logs import setup_logging
from bot.matrix import MatrixTransport
from bot.matrix_api import MatrixError
from bot.nio_client import BotClient
from bot.redaction import Redactor, secrets_of
from bot.settings import ConfigError, Settings
from commands import build_registry
from commands.dates.days import parse_day
from commands.errors import UserError
from commands.exports import Export, ExportRun
from commands.i18n import Translator, preload
from storage.db import Database, prepare_storage

log = logging.getLogger("cct-bot")


def _load(args: argparse.Namespace, path: Path) -> Settings | None:
    """The settings of ``path``, their secrets masked from now on in what the command writes;
    ``None`` once the problems are printed (passwords in URLs masked)."""
    redactor: Redactor = args.redactor
    try:
        settings = load_settings(path)
    except ConfigError as error:
        t = Translator("fr")
        print(t("cli.config_invalid", path=path, count=len(error.problems)), file=sys.stderr)
        for problem in error.problems:
            print(redactor.mask(f"  - {problem}"), file=sys.stderr)
        return None
    redactor.add(*secrets_of(settings))
    return settings


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _load(args, Path(args.file))
    if settings is None:
        return 2
    print(Translator(settings.club.language)("cli.config_ok", path=args.file))
    return 0


async def run_bot(settings: Settings, client: BotClient) -> None:
    """Runs until SIGTERM or SIGINT, then stops cleanly."""
    bot = Bot(settings, client=client)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, bot.request_stop)
    try:
        await bot.start()
        settle_memory(collect=False)
        await bot.run_until_stopped()
    finally:
        log.info("stopping")
        await bot.stop()


def cmd_run(args: argparse.Namespace) -> int:
    settings = _load(args, Path(args.config))
    if settings is None:
        return 2
    setup_logging("DEBUG" if args.verbose else settings.log_level, settings.log_format,
                  args.redactor)
    preload()  # what the first replies need from disk, read before the loop runs
    client = prepared_client(settings.matrix)
    prepare_storage(settings.database_url)
    settle_memory()  # the libraries out of the collector's way (once started: a freeze alone)
    asyncio.run(run_bot(settings, client))
    return 0


async def _upgrade(url: str) -> str | None:
    db = Database(url)
    try:
        await db.upgrade()
        return await db.current_revision()
    finally:
        await db.dispose()


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _load(args, Path(args.config))
    if settings is None:
        return 2
    revision = asyncio.run(_upgrade(settings.database_url))
    print(Translator(settings.club.language)("cli.db_upgraded", revision=revision))
    return 0


async def export_to(db: Database, export: Export, run: ExportRun,
                    directory: Path) -> list[Path]:
    """Writes an export's files (``cct-bot export <name>``) into ``directory``: made in a
    read-only transaction, which never holds the write lock the running bot needs (the
    bilan's files take seconds to render)."""
    async with db.reading() as repos:
        files = dict(await export.make(repos, run))
    return await asyncio.to_thread(_write_files, directory, files)


def _write_files(directory: Path, files: dict[str, bytes]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    written = []
    for name, data in files.items():
        path = directory / name
        write_private(path, data)
        written.append(path)
    return written


async def _export(settings: Settings, export: Export, args: argparse.Namespace) -> dict[str, bytes]:
    """An export's files, by name, made from the configured database."""
    club = club_of(settings)
    now = datetime.now(UTC)
    run = ExportRun(club, Translator(club.language), now,
                    getattr(args, "format", None) or export.formats[0],
                    getattr(args, "annee", None) or now.astimezone(club.tz).year,
                    getattr(args, "periode", None) or "", getattr(args, "du", None),
                    getattr(args, "au", None))
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        async with db.reading() as repos:  # as ``export_to``: the bot's writes never wait
            return dict(await export.make(repos, run))
    finally:
        await db.dispose()


def cmd_export(args: argparse.Namespace) -> int:
    settings = _load(args, Path(args.config))
    if settings is None:
        return 2
    export: Export = args.export
    try:
        files = asyncio.run(_export(settings, export, args))
    except UserError as error:  # a period unknown, reversed…: the same words as in the chat
        print(Translator(settings.club.language)(error.message_key,
                                                 **error.values), file=sys.stderr)
        return 2
    if export.folder:
        for path in _write_files(Path(args.dir), files):
            print(path)
        return 0
    [data] = files.values()
    if args.output:
        write_private(Path(args.output), data)
    else:
        sys.stdout.write(data.decode())
    return 0


async def _backup(url: str, target: Path) -> None:
    db = Database(url)
    try:
        await db.backup(target)
    finally:
        await db.dispose()


def cmd_db_backup(args: argparse.Namespace) -> int:
    settings = _load(args, Path(args.config))
    if settings is None:
        return 2
    t = Translator(settings.club.language)
    if not settings.database_url.startswith("sqlite"):
        print(t("cli.backup_postgres"), file=sys.stderr)
        return 2
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    default = Path(settings.database_url.split("///", 1)[1]).parent / f"cct-{stamp}.db"
    target = Path(args.output) if args.output else default
    asyncio.run(_backup(settings.database_url, target))
    print(t("cli.backup_done", path=target))
    return 0


async def reset_keys(settings: Settings) -> tuple[str, str]:
    """New cross-signing keys for the bot's account, its device signed by them; returns the
    master key and the device. Works beside a running bot: its encryption store is not opened."""
    transport = MatrixTransport(replace(settings.matrix, encryption=False))
    try:
        await transport.login()
        keys = await CrossSigning(transport.client, settings.matrix.password,
                                  settings.matrix.store_path).reset()
        return keys.master.public, str(transport.client.device_id)
    finally:
        await transport.close()


def cmd_keys_reset(args: argparse.Namespace) -> int:
    settings = _load(args, Path(args.config))
    if settings is None:
        return 2
    t = Translator(settings.club.language)
    try:
        master, device = asyncio.run(reset_keys(settings))
    except PasswordNeeded:
        print(t("cli.keys_password_needed"), file=sys.stderr)
        return 1
    except (CrossSigningError, MatrixError) as error:
        print(args.redactor.mask(t("cli.keys_reset_failed", reason=error)), file=sys.stderr)
        return 1
    print(t("cli.keys_reset", master=master, device=device,
            recovery=KeyFiles(settings.matrix.store_path).recovery))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from devtools.demo import run_demo

    setup_logging("WARNING")
    return run_demo(Path(args.dir), port=args.port)


def cmd_version(_args: argparse.Namespace) -> int:
    print(f"cct-bot {bot_version()}")
    return 0


Subparsers = argparse._SubParsersAction  # what ``add_subparsers`` gives


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cct-bot",
                                     description="Bot Matrix du Club Climat et Transition")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="lance le bot / run the bot")
    run.add_argument("--config", "-c", default="config.toml")
    run.add_argument("--verbose", "-v", action="store_true",
                     help="journal détaillé (DEBUG) / detailed log")
    run.set_defaults(func=cmd_run)
    check = sub.add_parser("check-config", help="vérifie la configuration / check a config file")
    check.add_argument("file")
    check.set_defaults(func=cmd_check_config)
    _add_db(sub)
    _add_export(sub.add_parser("export", help="exporte des données / export data"))
    _add_keys(sub)
    demo = sub.add_parser("demo", help="démo locale avec Synapse / local demo with Synapse")
    demo.add_argument("--dir", default="demo-data")
    demo.add_argument("--port", type=int, default=8008)
    demo.set_defaults(func=cmd_demo)
    ver = sub.add_parser("version", help="version")
    ver.set_defaults(func=cmd_version)
    return parser


def _add_db(sub: Subparsers[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="base de données / database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="applique les migrations / apply migrations")
    upgrade.add_argument("--config", "-c", default="config.toml")
    upgrade.set_defaults(func=cmd_db_upgrade)
    backup = db_sub.add_parser("backup", help="copie de la base SQLite, bot en marche / online "
                                              "backup of the SQLite database")
    backup.add_argument("--config", "-c", default="config.toml")
    backup.add_argument("--output", "-o", help="fichier de sauvegarde (défaut : data/cct-<date>.db)")
    backup.set_defaults(func=cmd_db_backup)


def _day(raw: str) -> date:
    day = parse_day(raw)
    if day is None:
        raise argparse.ArgumentTypeError(f"« {raw} » : une date comme 2024-01-31")
    return day


def _add_export(export: argparse.ArgumentParser) -> None:
    """One subcommand for each export a capability declares (``commands.exports``)."""
    export_sub = export.add_subparsers(dest="what", required=True)
    for declared in build_registry().exports:
        parser = export_sub.add_parser(declared.name, help=declared.help)
        if declared.yearly:
            parser.add_argument("--annee", "--year", type=int, dest="annee",
                                help="l'année (par défaut l'année en cours)")
        if declared.periodic:
            parser.add_argument("--periode", "--period", dest="periode",
                                help="une période de [report.periods] (phase2…)")
            parser.add_argument("--du", "--from", dest="du", type=_day,
                                help="premier jour (2024-01-01)")
            parser.add_argument("--au", "--to", dest="au", type=_day,
                                help="dernier jour (2026-10-31)")
        if declared.folder:
            parser.add_argument("--dir", "-d", default=".", help="dossier où écrire les fichiers")
        else:
            parser.add_argument("--format", "-f", choices=declared.formats,
                                default=declared.formats[0])
            parser.add_argument("--output", "-o", help="fichier (sinon la sortie standard)")
        parser.add_argument("--config", "-c", default="config.toml")
        parser.set_defaults(func=cmd_export, export=declared)


def _add_keys(sub: Subparsers[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("keys", help="clés de signature croisée du bot / the bot's "
                                       "cross-signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    reset = keys_sub.add_parser("reset", help="remplace les clés et signe l'appareil du bot / "
                                              "replace the keys and sign the bot's device")
    reset.add_argument("--config", "-c", default="config.toml")
    reset.set_defaults(func=cmd_keys_reset)


def main(argv: list[str] | None = None) -> int:
    """Runs one command; an unexpected error is printed with its traceback, secrets masked."""
    args = build_parser().parse_args(argv)
    args.redactor = Redactor()
    try:
        result: int = args.func(args)
    except Exception:
        print(args.redactor.mask(traceback.format_exc()), file=sys.stderr, end="")
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
