"""The bot's device as Element sees it (the JS SDK with its Rust crypto, on a real Synapse): verified
by its owner's cross-signing identity after a fresh start and after a store loss; a person whose
Element shares keys only with such devices still gets encrypted answers."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
from typing import Any

import pytest

from bot.cross_signing import KEYS_FILE, CrossSigning, KeyFiles
from tests.integration.conftest import BotRunner
from tests.integration.element_peer import ElementPeer

pytestmark = pytest.mark.integration

BOT_DEVICE = "CCTBOTTEST"  # the configured device (a new one after a store loss)


async def encrypted_club(bot_factory: Any, person: ElementPeer,
                         **overrides: dict[str, Any]) -> tuple[BotRunner, str]:
    """An encrypted room made by ``person`` on Element, the bot's main room, the bot in it."""
    runner = await bot_factory(start=False, club={"allowed_inviters": [person.user_id]},
                               **overrides)
    room = (await person.request("create_room", name="CCT", invite=[runner.user_id],
                                 encrypted=True))["room_id"]
    runner.overrides["rooms"] = {"main": room}
    await runner.start()
    await person.request("wait_member", room_id=room, user_id=runner.user_id, membership="join")
    return runner, room


async def status(person: ElementPeer, runner: BotRunner, device: str = BOT_DEVICE,
                 ) -> dict[str, Any]:
    return await person.request("device_status", user_id=runner.user_id, device_id=device,
                                wait_signed=True, timeout=30)


async def test_the_bot_device_is_signed_by_its_owner_after_a_fresh_start(bot_factory,
                                                                         elements,
                                                                         caplog) -> None:
    ana = await elements("ana")
    with caplog.at_level(logging.INFO, logger="bot.cross_signing"):
        runner, _room = await encrypted_club(bot_factory, ana)
    seen = await status(ana, runner)
    assert seen["signed_by_owner"] is True, seen
    assert seen["cross_signing_verified"] is False  # Ana has not verified the bot herself
    master = await server_master(runner)
    assert (f"cross-signing created: device {BOT_DEVICE} (ed25519 " in caplog.text
            and f"signed by the master key {master}" in caplog.text)


async def test_a_person_sharing_keys_only_with_signed_devices_is_answered(bot_factory,
                                                                         elements) -> None:
    ana = await elements("ana")
    await ana.request("isolation", mode="only_signed")
    runner, room = await encrypted_club(bot_factory, ana)
    await status(ana, runner)  # Element knows the bot's device before writing
    sent = await ana.request("send", room_id=room, body="!ping")
    reply = await ana.request("wait_reply", room_id=room, sender=runner.user_id,
                              event_id=sent["event_id"], timeout=60)
    assert reply["found"] and reply["encrypted"] and reply["decrypted"], reply
    assert reply["msgtype"] == "m.notice" and "pong" in reply["body"].lower(), reply


def recovered_master(runner: BotRunner) -> str:
    """The master key in the recovery file beside the bot's store."""
    recovery = KeyFiles(runner.base / "store").recovery
    return str(json.loads(recovery.read_text())["master_public"])


async def server_master(runner: BotRunner) -> str:
    """The bot account's master key, as the homeserver gives it."""
    assert runner.bot is not None
    own = await CrossSigning(runner.bot.transport.client, "", runner.base / "store").own_keys()
    assert own.master is not None
    return str(next(iter(own.master["keys"].values())))


def open_store_files(runner: BotRunner) -> set[str]:
    """The names of the store's files this process holds open."""
    folder = str(runner.base / "store")
    names = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(folder + "/"):
            names.add(os.path.basename(target))
    return names


async def test_after_a_store_loss_the_new_device_is_signed_too(bot_factory, elements) -> None:
    ana = await elements("ana")
    await ana.request("isolation", mode="only_signed")
    runner, room = await encrypted_club(bot_factory, ana)
    assert (await status(ana, runner))["signed_by_owner"]
    master = await server_master(runner)
    assert recovered_master(runner) == master
    assert stat.S_IMODE((runner.base / "store" / KEYS_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(KeyFiles(runner.base / "store").recovery.stat().st_mode) == 0o600
    stopped = runner.bot  # kept: its store is closed by its stop, not by the collector
    await runner.stop()
    shutil.rmtree(runner.base / "store")  # the recovery file, beside it, is kept
    bot = await runner.start()
    device = str(bot.transport.client.device_id)
    assert device.startswith(f"{BOT_DEVICE}-")  # its keys are new: so is the device
    held = open_store_files(runner)  # the stopped bot's and the lost device's closed
    assert f"{runner.user_id}_{device}.db" in held, held
    assert not any(name.startswith(f"{runner.user_id}_{BOT_DEVICE}.") for name in held), held
    assert stopped is not None
    assert await server_master(runner) == master  # the same identity, from the recovery file
    seen = await status(ana, runner, device)
    assert seen["signed_by_owner"] is True, seen
    sent = await ana.request("send", room_id=room, body="!ping")
    reply = await ana.request("wait_reply", room_id=room, sender=runner.user_id,
                              event_id=sent["event_id"], timeout=60)
    assert reply["found"] and reply["decrypted"], reply


async def test_keys_lost_with_the_store_are_replaced_with_the_password(bot_factory,
                                                                       elements) -> None:
    ana = await elements("ana")
    runner, _room = await encrypted_club(bot_factory, ana)
    old = await server_master(runner)
    await runner.stop()
    shutil.rmtree(runner.base / "store")
    KeyFiles(runner.base / "store").recovery.unlink()
    bot = await runner.start()
    new = await server_master(runner)  # replaced (the homeserver asked for the password)
    assert new != old and recovered_master(runner) == new
    seen = await status(ana, runner, str(bot.transport.client.device_id))
    assert seen["signed_by_owner"] is True, seen


async def test_with_only_an_access_token_lost_keys_are_left_with_a_warning(
        bot_factory, synapse, caplog) -> None:
    runner = await bot_factory(rooms={"main": "#nowhere:localhost"})
    old = await server_master(runner)
    await runner.stop()
    shutil.rmtree(runner.base / "store")
    KeyFiles(runner.base / "store").recovery.unlink()
    token = synapse.login_token(runner.user_id, runner.password, "TOKENDEVICE")
    runner.overrides["matrix"] = {"password": "", "access_token": token,
                                  "device_id": "TOKENDEVICE"}
    with caplog.at_level(logging.WARNING, logger="bot.cross_signing"):
        bot = await runner.start()  # started all the same
    assert bot.ready.is_set()
    assert "only an access token" in caplog.text
    assert await server_master(runner) == old  # left as they were


def keys_reset(runner: BotRunner, password: str) -> subprocess.CompletedProcess[str]:
    """``cct-bot keys reset`` as an administrator runs it, on the bot's own config and store."""
    config = runner.base / "config.toml"
    config.write_text(f"""
[matrix]
homeserver = "{runner.synapse.url}"
user_id = "{runner.user_id}"
device_id = "{BOT_DEVICE}"
store_path = "store"
[database]
url = "sqlite+aiosqlite:///data/cct.db"
[club]
charter = "On s'écoute."
[rooms]
main = "#nowhere:localhost"
""", encoding="utf-8")
    env = {**os.environ, "CCT_BOT_PASSWORD": password}
    env.pop("CCT_BOT_ACCESS_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", "keys", "reset", "--config",
                           str(config)], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


async def test_keys_reset_replaces_the_identity_beside_the_running_bot(bot_factory,
                                                                       elements) -> None:
    ana = await elements("ana")
    runner, room = await encrypted_club(bot_factory, ana)
    old = await server_master(runner)
    (runner.base / "store" / "credentials.json").unlink()  # logs in with the password again

    refused = await asyncio.to_thread(keys_reset, runner, "not-the-password")
    assert refused.returncode == 1
    assert "Les clés n'ont pas pu être remplacées" in refused.stderr
    assert "not-the-password" not in refused.stderr + refused.stdout
    assert await server_master(runner) == old

    done = await asyncio.to_thread(keys_reset, runner, runner.password)
    assert done.returncode == 0, done.stderr
    new = await server_master(runner)
    assert new != old and recovered_master(runner) == new
    assert f"clé maîtresse {new}" in done.stdout and "Sauvegardez le fichier" in done.stdout
    seen = await status(ana, runner)
    assert seen["signed_by_owner"] is True, seen
    sent = await ana.request("send", room_id=room, body="!ping")  # the bot never stopped
    reply = await ana.request("wait_reply", room_id=room, sender=runner.user_id,
                              event_id=sent["event_id"], timeout=60)
    assert reply["found"] and reply["decrypted"], reply


async def test_a_person_whose_element_withholds_keys_is_told_what_to_check(
        bot_factory, elements) -> None:
    ana = await elements("ana")
    # « Ne jamais envoyer de messages chiffrés aux sessions non vérifiées »: Ana has not
    # verified the bot herself, so her Element keeps the room key from it.
    await ana.request("isolation", mode="all", blacklist_unverified=True)
    runner, room = await encrypted_club(bot_factory, ana,
                                        matrix={"undecryptable_notice_seconds": 2})
    await status(ana, runner)
    sent = await ana.request("send", room_id=room, body="!ping")
    notice = await ana.request("wait_reply", room_id=room, sender=runner.user_id,
                               event_id=sent["event_id"], timeout=60)
    assert notice["found"] and notice["encrypted"] and notice["decrypted"], notice
    assert notice["body"].startswith("Je ne peux pas lire votre message : votre appareil ne "
                                     "partage pas ses clés avec le bot."), notice
    again = await ana.request("send", room_id=room, body="!ping")
    await ana.request("isolation", mode="all", blacklist_unverified=False)
    third = await ana.request("send", room_id=room, body="!ping")  # the key reaches the bot now
    reply = await ana.request("wait_reply", room_id=room, sender=runner.user_id,
                              event_id=third["event_id"], timeout=60)
    assert "pong" in reply["body"].lower(), reply
    unanswered = await ana.request("wait_reply", room_id=room, sender=runner.user_id,
                                   event_id=again["event_id"], timeout=5)
    assert not unanswered["found"]  # not told twice (once per person), its key never came
