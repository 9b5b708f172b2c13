"""Cross-signing keys: signatures another implementation accepts, files kept private."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from vodozemac import Ed25519PublicKey, Ed25519Signature, SignatureException

from bot.cross_signing import CrossSigningKeys, KeyFiles, SigningKey, canonical_json

USER = "@cct-bot:example.org"


def verify(public: str, value: dict[str, object], signature: str) -> None:
    """vodozemac's check of an ed25519 signature on the canonical JSON of ``value`` (without
    ``signatures`` and ``unsigned``), as clients make it."""
    unsigned = {k: v for k, v in value.items() if k not in ("signatures", "unsigned")}
    Ed25519PublicKey.from_base64(public).verify_signature(
        canonical_json(unsigned), Ed25519Signature.from_base64(signature))


def test_canonical_json_sorts_keys_without_spaces_in_utf8() -> None:
    assert canonical_json({"b": 1, "a": {"d": "é", "c": [1, 2]}}) == \
        '{"a":{"c":[1,2],"d":"é"},"b":1}'.encode()


def test_published_keys_are_signed_by_the_master_key() -> None:
    keys = CrossSigningKeys.generate()
    published = keys.published(USER)
    assert published["master_key"] == {"user_id": USER, "usage": ["master"],
                                       "keys": {keys.master.key_id: keys.master.public}}
    for name, key in (("self_signing_key", keys.self_signing),
                      ("user_signing_key", keys.user_signing)):
        value = published[name]
        assert value["keys"] == {key.key_id: key.public}
        verify(keys.master.public, value, value["signatures"][USER][keys.master.key_id])


def test_a_device_signed_keeps_its_other_signatures_and_loses_unsigned() -> None:
    key = SigningKey.generate()
    device = {"user_id": USER, "device_id": "CCTBOT", "algorithms": ["m.megolm.v1.aes-sha2"],
              "keys": {"ed25519:CCTBOT": "abc"}, "signatures": {USER: {"ed25519:CCTBOT": "x"}},
              "unsigned": {"device_display_name": "cct-bot"}}
    signed = key.signed(device, USER)
    assert "unsigned" not in signed
    assert signed["signatures"][USER]["ed25519:CCTBOT"] == "x"
    verify(key.public, device, signed["signatures"][USER][key.key_id])
    with pytest.raises(SignatureException):
        verify(key.public, {**device, "device_id": "OTHER"}, signed["signatures"][USER][key.key_id])


def test_keys_are_kept_in_the_store_and_in_a_recovery_file_beside_it(tmp_path: Path) -> None:
    files = KeyFiles(tmp_path / "store")
    keys = CrossSigningKeys.generate()
    files.save(keys, USER)
    assert files.recovery == tmp_path / "store-cross-signing-recovery.json"
    for path in (files.working, files.recovery):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.store.stat().st_mode) == 0o700
    assert files.load(USER) == [keys]
    files.working.unlink()  # the store lost: the recovery file has them
    assert files.load(USER) == [keys]
    assert CrossSigningKeys.from_json(json.loads(files.recovery.read_text()), USER) == keys


def test_damaged_files_and_other_accounts_keys_are_ignored(tmp_path: Path) -> None:
    files = KeyFiles(tmp_path / "store")
    files.save(CrossSigningKeys.generate(), "@someone-else:example.org")
    assert files.load(USER) == []
    files.working.write_text("{not json")
    data = json.loads(files.recovery.read_text())
    data["user_id"], data["seeds"]["master"] = USER, "c2hvcnQ"
    files.recovery.write_text(json.dumps(data))
    assert files.load(USER) == []
