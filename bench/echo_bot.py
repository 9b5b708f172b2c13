"""A bare matrix-nio echo bot: the baseline that ``bench.latency`` compares cct-bot with.

It logs in, joins the rooms its one allowed inviter invites it to, and answers every ``!ping``
``m.text`` with an ``m.notice`` reply (``m.in_reply_to``, ``m.mentions``, HTML: the shape of
cct-bot's replies) straight from nio's event callback,
i.e. before the next sync: no database, no queue, nothing between the event and the send.
Its trigger followed by two sizes, ``<B> <H>`` (at most 99,999 each), is answered with a text
of ``B`` ASCII characters and an HTML of ``H`` (the size of another bot's longer reply: what
the homeserver adds for the size is then in both).
It syncs with ``sync_forever`` and the same sync filter as cct-bot.

    ECHO_BOT_PASSWORD=... python -m bench.echo_bot --homeserver URL --user-id @echo:localhost \\
        --inviter @bench:localhost [--encrypted --store DIR]

Stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    RoomMessageText,
)

from bot.matrix_api import sync_filter

PASSWORD_ENV = "ECHO_BOT_PASSWORD"


class EchoBot:
    """One nio client whose callbacks join on invite and answer ``!ping``."""

    def __init__(self, args: argparse.Namespace) -> None:
        config = AsyncClientConfig(encryption_enabled=args.encrypted, store_sync_tokens=False)
        self.client = AsyncClient(args.homeserver, args.user_id, device_id=args.device_id,
                                  store_path=args.store if args.encrypted else "", config=config)
        self.inviter: str = args.inviter
        self.trigger: str = args.trigger
        self.started_ms = time.time() * 1000
        self.client.add_event_callback(self.on_invite, InviteMemberEvent)
        self.client.add_event_callback(self.on_text, RoomMessageText)

    async def on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if (event.state_key == self.client.user_id and event.membership == "invite"
                and event.sender == self.inviter):
            await self.client.join(room.room_id)

    async def on_text(self, room: MatrixRoom, event: RoomMessageText) -> None:
        words = event.body.split()
        if (event.sender == self.client.user_id or event.server_timestamp < self.started_ms
                or not words or words[0] != self.trigger):
            return
        body, html = "pong", "<p>pong</p>"
        sizes = words[1:]
        if len(sizes) == 2 and all(w.isascii() and w.isdecimal() and len(w) <= 5 for w in sizes):
            body, html = "x" * int(sizes[0]), "<p>" + "x" * max(int(sizes[1]) - 7, 0) + "</p>"
        # The same shape as cct-bot's replies: Synapse takes a few ms longer to accept an event
        # with ``m.mentions``, and that is not the bot's overhead.
        content = {
            "msgtype": "m.notice",
            "body": body,
            "format": "org.matrix.custom.html",
            "formatted_body": html,
            "m.mentions": {"user_ids": [event.sender]},
            "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
        }
        await self.client.room_send(room.room_id, "m.room.message", content,
                                    ignore_unverified_devices=True)

    async def run(self, password: str) -> None:
        response = await self.client.login(password, device_name="echo bot")
        if not isinstance(response, LoginResponse):
            raise SystemExit(f"echo bot: login failed: {response}")
        if self.client.should_upload_keys:  # others must know our device before they write to us
            await self.client.keys_upload()
        print(f"echo bot ready as {self.client.user_id}", flush=True)
        try:
            await self.client.sync_forever(timeout=30000, sync_filter=sync_filter(), full_state=True)
        finally:
            await self.client.close()


async def main(args: argparse.Namespace) -> None:
    task = asyncio.create_task(EchoBot(args).run(os.environ.get(PASSWORD_ENV, "")))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.echo_bot",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user-id", required=True)
    parser.add_argument("--device-id", default="ECHOBOT")
    parser.add_argument("--inviter", required=True, help="the only user whose invites are accepted")
    parser.add_argument("--encrypted", action="store_true", help="enable end-to-end encryption")
    parser.add_argument("--trigger", default="!ping",
                        help="the message it answers (another bot in the room may answer !ping)")
    parser.add_argument("--store", default="echo-store", help="nio store folder (with --encrypted)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.encrypted:
        os.makedirs(arguments.store, exist_ok=True)
    asyncio.run(main(arguments))
    sys.exit(0)
