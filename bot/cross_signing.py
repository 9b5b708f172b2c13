"""The bot's cross-signing identity: its device is signed by its own account, so that Element
shows its encrypted messages without a warning and clients that exclude insecure devices still
share their room keys with it.

matrix-nio has no cross-signing API. At each start (``cross_sign``) the bot reads its account's
keys from the homeserver (``/keys/query``) and:

- publishes new master, self-signing and user-signing keys when the account has none (the
  homeserver may ask for the password: user-interactive auth);
- signs its device with its self-signing key when the device is not signed yet (a new device,
  after a store loss with the recovery file kept);
- replaces keys it has lost (the account has others) when it has the password, else warns.

The private keys (ed25519 seeds) are kept in the store folder (``cross-signing.json``, 0600) and
in a recovery file beside it (``<store>-cross-signing-recovery.json``) that the administrator
backs up: a new store finds them there. Signatures are made on canonical JSON, as in the spec's
"Signing JSON" appendix.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa
from nio import AsyncClient
from nio.api import Api
from unpaddedbase64 import decode_base64, encode_base64

from bot.files import write_private
from bot.matrix_api import MatrixError, api_request

log = logging.getLogger(__name__)

KEYS_FILE = "cross-signing.json"
RECOVERY_SUFFIX = "-cross-signing-recovery.json"
KEY_NAMES = ("master", "self_signing", "user_signing")


class CrossSigningError(Exception):
    """The homeserver refused a cross-signing request, or did not answer."""


class PasswordNeeded(CrossSigningError):
    """The homeserver asks for the bot's password (user-interactive auth) and it has none."""


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """The spec's canonical JSON: sorted keys, no spaces, UTF-8."""
    text: str = Api.to_canonical_json(dict(value))
    return text.encode("utf-8")


@dataclass(frozen=True)
class SigningKey:
    """An ed25519 key pair, from its 32-byte seed."""

    seed: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(bytes(ECC.generate(curve="ed25519").seed))

    @property
    def public(self) -> str:
        """The public key, unpadded base64 (also its key id after ``ed25519:``)."""
        key = ECC.construct(curve="ed25519", seed=self.seed)
        return encode_base64(key.public_key().export_key(format="raw"))

    @property
    def key_id(self) -> str:
        return f"ed25519:{self.public}"

    def sign(self, value: Mapping[str, Any]) -> str:
        """The signature of ``value`` without its ``signatures`` and ``unsigned``."""
        signed = {k: v for k, v in value.items() if k not in ("signatures", "unsigned")}
        signer = eddsa.new(ECC.construct(curve="ed25519", seed=self.seed), "rfc8032")
        return encode_base64(signer.sign(canonical_json(signed)))

    def signed(self, value: Mapping[str, Any], user_id: str) -> dict[str, Any]:
        """``value`` with this key's signature added to the others."""
        signatures = {user: dict(sigs) for user, sigs in value.get("signatures", {}).items()}
        signatures.setdefault(user_id, {})[self.key_id] = self.sign(value)
        return {**{k: v for k, v in value.items() if k != "unsigned"}, "signatures": signatures}


@dataclass(frozen=True)
class CrossSigningKeys:
    """The account's three cross-signing keys."""

    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(SigningKey.generate(), SigningKey.generate(), SigningKey.generate())

    def published(self, user_id: str) -> dict[str, dict[str, Any]]:
        """The public keys as uploaded: the self-signing and user-signing keys signed by the
        master key."""
        def public(key: SigningKey, usage: str) -> dict[str, Any]:
            return {"user_id": user_id, "usage": [usage], "keys": {key.key_id: key.public}}

        return {
            "master_key": public(self.master, "master"),
            "self_signing_key": self.master.signed(public(self.self_signing, "self_signing"),
                                                   user_id),
            "user_signing_key": self.master.signed(public(self.user_signing, "user_signing"),
                                                   user_id),
        }

    def to_json(self, user_id: str) -> dict[str, Any]:
        return {"user_id": user_id, "master_public": self.master.public,
                "seeds": {name: encode_base64(getattr(self, name).seed) for name in KEY_NAMES}}

    @classmethod
    def from_json(cls, data: Any, user_id: str) -> CrossSigningKeys | None:
        """The keys saved for ``user_id``; ``None`` for another account or a damaged file."""
        try:
            if data["user_id"] != user_id:
                return None
            seeds = {name: decode_base64(data["seeds"][name]) for name in KEY_NAMES}
        except (KeyError, TypeError, ValueError):
            return None
        if any(len(seed) != 32 for seed in seeds.values()):
            return None
        return cls(**{name: SigningKey(seed) for name, seed in seeds.items()})


RECOVERY_NOTE = ("Clés de signature croisée du compte du bot (privées). Gardez une copie de ce "
                 "fichier en lieu sûr : si le dossier du store est perdu, remettez-le ici et le "
                 "nouvel appareil du bot sera signé par la même identité. / The bot account's "
                 "cross-signing keys (private): keep a copy somewhere safe.")


@dataclass(frozen=True)
class KeyFiles:
    """Where the private keys are kept: in the store folder, and in the recovery file beside
    it (which survives the store)."""

    store: Path

    @property
    def working(self) -> Path:
        return self.store / KEYS_FILE

    @property
    def recovery(self) -> Path:
        return self.store.with_name(self.store.name + RECOVERY_SUFFIX)

    def load(self, user_id: str) -> list[CrossSigningKeys]:
        """The keys found, the store's first (a file unreadable or for another account is
        skipped, noted in the log)."""
        found = []
        for path in (self.working, self.recovery):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as error:
                log.warning("cross-signing keys in %s unreadable (%s)", path, error)
                continue
            keys = CrossSigningKeys.from_json(data, user_id)
            if keys is None:
                log.warning("cross-signing keys in %s are not %s's: ignored", path, user_id)
            elif keys not in found:
                found.append(keys)
        return found

    def save(self, keys: CrossSigningKeys, user_id: str) -> None:
        """Writes both files (0600), unless they already hold these keys."""
        self.store.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {"note": RECOVERY_NOTE, **keys.to_json(user_id)}
        text = (json.dumps(data, indent=2) + "\n").encode()
        for path in (self.working, self.recovery):
            try:
                current = CrossSigningKeys.from_json(json.loads(path.read_text()), user_id)
            except (OSError, ValueError):
                current = None
            if current != keys:
                write_private(path, text)


@dataclass(frozen=True)
class OwnKeys:
    """What the homeserver holds of the bot's account: its cross-signing keys, its device."""

    master: dict[str, Any] | None
    self_signing: dict[str, Any] | None
    device: dict[str, Any] | None

    def is_ours(self, keys: CrossSigningKeys) -> bool:
        return (self.master is not None and self.self_signing is not None
                and keys.master.public in self.master.get("keys", {}).values()
                and keys.self_signing.public in self.self_signing.get("keys", {}).values())

    def device_signed_by(self, keys: CrossSigningKeys, user_id: str) -> bool:
        signatures = (self.device or {}).get("signatures", {}).get(user_id, {})
        return keys.self_signing.key_id in signatures


class CrossSigning:
    """Cross-signs the device of a logged-in nio client (whose device keys are uploaded)."""

    def __init__(self, client: AsyncClient, password: str, store: Path) -> None:
        self.client = client
        self.password = password
        self.files = KeyFiles(store)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def device_id(self) -> str:
        return str(self.client.device_id)

    async def ensure(self) -> str:
        """Makes the device signed by the account's keys, creating or replacing them as needed;
        returns what was done: ``unchanged``, ``signed``, ``created``, ``reset``."""
        own = await self.own_keys()
        device = self._device_of(own)
        candidates = self.files.load(self.user_id)
        keys = next((k for k in candidates if own.is_ours(k)), None)
        if keys is not None:
            self.files.save(keys, self.user_id)  # a file missing (restored from the other)
            outcome = "unchanged" if own.device_signed_by(keys, self.user_id) else "signed"
            if outcome == "signed":
                await self.sign_device(keys, device)
        elif own.master is None:
            keys, outcome = await self.replace(candidates[0] if candidates else None,
                                               device), "created"
        else:
            log.warning("cross-signing: the account's keys on the homeserver are neither the "
                        "store's nor the recovery file's; replacing them")
            keys, outcome = await self.replace(None, device), "reset"
        self._log(outcome, keys, device)
        return outcome

    async def reset(self) -> CrossSigningKeys:
        """New keys, published and kept, the device signed (``cct-bot keys reset``)."""
        device = self._device_of(await self.own_keys())
        keys = await self.replace(None, device)
        self._log("reset", keys, device)
        return keys

    async def replace(self, keys: CrossSigningKeys | None,
                      device: dict[str, Any]) -> CrossSigningKeys:
        """Publishes ``keys`` (new ones when ``None``), keeps them, signs the device."""
        keys = keys or CrossSigningKeys.generate()
        await self.publish(keys)
        self.files.save(keys, self.user_id)
        await self.sign_device(keys, device)
        return keys

    def _device_of(self, own: OwnKeys) -> dict[str, Any]:
        if own.device is None:
            raise CrossSigningError(f"the homeserver does not know the keys of {self.device_id}")
        return own.device

    def _log(self, outcome: str, keys: CrossSigningKeys, device: dict[str, Any]) -> None:
        """One line that lets an administrator compare the bot's identity with what a client
        shows: the device, its ed25519 key, the master key."""
        device_key = device.get("keys", {}).get(f"ed25519:{self.device_id}", "?")
        log.info("cross-signing %s: device %s (ed25519 %s) signed by the master key %s", outcome,
                 self.device_id, device_key, keys.master.public,
                 extra={"event_kind": "cross_signing", "outcome": outcome,
                        "device": self.device_id, "master_key": keys.master.public})

    async def own_keys(self) -> OwnKeys:
        status, answer = await self._call("POST", "keys/query",
                                          {"device_keys": {self.user_id: []}})
        if status != 200:
            raise CrossSigningError(f"keys/query: {status} {answer.get('errcode')}")
        return OwnKeys(answer.get("master_keys", {}).get(self.user_id),
                       answer.get("self_signing_keys", {}).get(self.user_id),
                       answer.get("device_keys", {}).get(self.user_id, {}).get(self.device_id))

    async def publish(self, keys: CrossSigningKeys) -> None:
        """Uploads the public keys, with the password when the homeserver asks for it."""
        body: dict[str, Any] = keys.published(self.user_id)
        status, answer = await self._call("POST", "keys/device_signing/upload", body)
        if status == 401 and "flows" in answer:
            if not self.password:
                raise PasswordNeeded("the homeserver asks for the bot's password to publish "
                                     "its cross-signing keys")
            body["auth"] = {"type": "m.login.password", "session": answer.get("session"),
                            "identifier": {"type": "m.id.user", "user": self.user_id},
                            "password": self.password}
            status, answer = await self._call("POST", "keys/device_signing/upload", body)
        if status != 200:
            raise CrossSigningError(f"keys/device_signing/upload: {status} "
                                    f"{answer.get('errcode')} {answer.get('error', '')}")

    async def sign_device(self, keys: CrossSigningKeys, device: dict[str, Any]) -> None:
        signed = keys.self_signing.signed({**device, "signatures": {}}, self.user_id)
        status, answer = await self._call("POST", "keys/signatures/upload",
                                          {self.user_id: {self.device_id: signed}})
        if status != 200 or answer.get("failures"):
            raise CrossSigningError(f"keys/signatures/upload: {status} "
                                    f"{answer.get('failures') or answer.get('errcode')}")

    async def _call(self, method: str, path: str,
                    body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            return await api_request(self.client, method, path, body)
        except MatrixError as error:
            raise CrossSigningError(str(error)) from error


async def cross_sign(client: AsyncClient, password: str, store: Path) -> str:
    """``CrossSigning.ensure`` at start: a failure is logged, never raised (the bot works
    without cross-signing; Element then flags its messages); returns the outcome or
    ``skipped``."""
    try:
        return await CrossSigning(client, password, store).ensure()
    except PasswordNeeded:
        log.warning("cross-signing skipped: the homeserver asks for the bot's password to "
                    "replace the account's cross-signing keys, and only an access token is "
                    "configured (set matrix.password or CCT_BOT_PASSWORD, or run `cct-bot keys "
                    "reset`); Element will flag the bot's encrypted messages")
    except CrossSigningError as error:
        log.warning("cross-signing skipped (%s); Element will flag the bot's encrypted "
                    "messages until the next start", error)
    return "skipped"
