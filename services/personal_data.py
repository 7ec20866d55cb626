"""Personal data at rest: fields sealed with AES-256-GCM under a data key from the settings.

Use it for every stored field that says who a person is or how to reach them (e-mail, real
name, phone, postal address, date of birth, a client address kept with a session): the
service that owns the field seals it before handing it to the store and opens it after
reading it; the store keeps the sealed text and never sees the key. docs/operations.md,
"Personal data", lists what is stored and how.

- Keys: a ring (``TABLIUM_DATA_KEYS``) with one current key, which seals, and previous keys,
  which still open what they sealed. Each sealed value names its key, so rotating means
  adding a new current key; ``reseal`` moves a value to it, and a previous key may be removed
  once nothing sealed with it remains.
- Context: every seal binds a context naming the field and its row (``"accounts.email:42"``),
  authenticated but not stored: a sealed value copied to another row or field does not open.
- Sealed text: ``pd1.<kid>.<base64url(nonce || ciphertext || tag)>``, ASCII, for TEXT columns.
  Nonces are random (96 bits): keep one key for well under 2**32 seals (rotate yearly).
- A field that must be looked up by value (an e-mail at login) also needs a keyed hash of
  it (a blind index) in a column of its own: sealed values of one plaintext all differ.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_PREFIX: Final = "pd1"
DATA_KEY_BYTES: Final = 32  # AES-256
NONCE_BYTES: Final = 12
KID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")  # no dot: it separates the parts
PLAINTEXT_BYTES_MAX: Final = 4096  # personal fields are short; longer: ValueError, not sealed
SEALED_CHARS_MAX: Final = 8192  # a sealed PLAINTEXT_BYTES_MAX is ~5,600; longer: not opened
PREVIOUS_KEYS_MAX: Final = 8  # a longer ring is a mistake; refused


class DataKeyError(ValueError):
    """A data key ring that cannot be used; the message says which entry and why."""


class SealedDataError(Exception):
    """A sealed value that does not open: malformed, its key not on the ring, tampered with,
    or opened with another context than it was sealed with."""


@final
@dataclass(frozen=True, slots=True)
class DataKey:
    kid: str
    key: bytes = field(repr=False)


@final
@dataclass(frozen=True, slots=True)
class DataKeyRing:
    current: DataKey
    previous: tuple[DataKey, ...] = ()

    def __post_init__(self) -> None:
        keys = (self.current, *self.previous)
        if len(self.previous) > PREVIOUS_KEYS_MAX:
            raise DataKeyError(f"at most {PREVIOUS_KEYS_MAX} previous keys")
        if len({key.kid for key in keys}) != len(keys):
            raise DataKeyError("key ids must be distinct")
        for key in keys:
            if not KID_PATTERN.fullmatch(key.kid):
                raise DataKeyError(f"key id {key.kid!r}: 1-64 of A-Z a-z 0-9 _ -")
            if len(key.key) != DATA_KEY_BYTES:
                raise DataKeyError(f"key {key.kid!r}: expected {DATA_KEY_BYTES} bytes")

    def rotated(self, new_key: DataKey) -> DataKeyRing:
        """``new_key`` seals from now on; every key so far still opens."""
        return DataKeyRing(new_key, (self.current, *self.previous))

    def to_json(self) -> str:
        """One line: for an environment variable, a .env file or a Secret."""
        return json.dumps(
            {
                "current": _key_json(self.current),
                "previous": [_key_json(key) for key in self.previous],
            }
        )

    def describe(self) -> list[str]:
        """One line per key, without the keys (for operators)."""
        return [f"{self.current.kid}: current (seals and opens)"] + [
            f"{key.kid}: opens only" for key in self.previous
        ]


def new_data_key(kid: str | None = None, *, now_s: int) -> DataKey:
    """A fresh random key; its id defaults to ``d`` and the UTC time (``d20261202T031700Z``)."""
    if kid is None:
        kid = "d" + dt.datetime.fromtimestamp(now_s, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return DataKey(kid, os.urandom(DATA_KEY_BYTES))


def parse_data_key_ring(raw: Any) -> DataKeyRing:
    """A ring from its JSON text or its parsed form (a TOML table), keys in base64.
    Raises DataKeyError."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataKeyError(f"not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(raw, Mapping) or "current" not in raw:
        raise DataKeyError('expected {"current": {"kid": ..., "key": ...}, "previous": [...]}')
    unknown = sorted(set(raw) - {"current", "previous"})
    if unknown:
        raise DataKeyError(f"unknown field {unknown[0]!r}")
    previous = raw.get("previous", [])
    if not isinstance(previous, list):
        raise DataKeyError("previous: expected a list of keys")
    return DataKeyRing(
        _parse_key(raw["current"], "current"),
        tuple(_parse_key(entry, f"previous[{i}]") for i, entry in enumerate(previous)),
    )


def _parse_key(raw: Any, where: str) -> DataKey:
    if not isinstance(raw, Mapping) or set(raw) != {"kid", "key"}:
        raise DataKeyError(f"{where}: expected an object with kid and key (and nothing else)")
    kid, text = raw["kid"], raw["key"]
    if not isinstance(kid, str) or not isinstance(text, str):
        raise DataKeyError(f"{where}: kid and key must be strings")
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise DataKeyError(f"{where}: the key is not base64") from None
    if len(key) != DATA_KEY_BYTES:
        raise DataKeyError(f"{where}: the key must be {DATA_KEY_BYTES} bytes (base64 of them)")
    return DataKey(kid, key)


def _key_json(key: DataKey) -> dict[str, str]:
    return {"kid": key.kid, "key": base64.urlsafe_b64encode(key.key).decode()}


@final
class PersonalDataCipher:
    """Seals and opens personal fields with a data key ring."""

    def __init__(self, keys: DataKeyRing) -> None:
        self.keys = keys
        self._aead = {key.kid: AESGCM(key.key) for key in (keys.current, *keys.previous)}

    def seal(self, plaintext: str, *, context: str) -> str:
        data = plaintext.encode("utf-8")
        if len(data) > PLAINTEXT_BYTES_MAX:
            raise ValueError(f"personal fields are at most {PLAINTEXT_BYTES_MAX} bytes")
        kid = self.keys.current.kid
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[kid].encrypt(nonce, data, _associated(kid, context))
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{SEALED_PREFIX}.{kid}.{body}"

    def open(self, sealed: str, *, context: str) -> str:
        kid, blob = self._parts(sealed)
        aead = self._aead.get(kid)
        if aead is None:
            raise SealedDataError(f"sealed with key {kid!r}, which is not on the ring")
        try:
            data = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _associated(kid, context))
        except InvalidTag:
            raise SealedDataError("the sealed value does not open in this context") from None
        return data.decode("utf-8")

    def key_id(self, sealed: str) -> str:
        return self._parts(sealed)[0]

    def is_current(self, sealed: str) -> bool:
        """True when ``sealed`` is sealed with the current key (nothing to reseal)."""
        return self.key_id(sealed) == self.keys.current.kid

    def reseal(self, sealed: str, *, context: str) -> str:
        """``sealed`` under the current key (itself when already so): how a rotation moves
        stored values off a previous key before that key is removed."""
        if self.is_current(sealed):
            return sealed
        return self.seal(self.open(sealed, context=context), context=context)

    @staticmethod
    def _parts(sealed: str) -> tuple[str, bytes]:
        if len(sealed) > SEALED_CHARS_MAX:
            raise SealedDataError("the sealed value is too long")
        prefix, _, rest = sealed.partition(".")
        kid, _, body = rest.partition(".")
        if prefix != SEALED_PREFIX or not KID_PATTERN.fullmatch(kid) or not body:
            raise SealedDataError("not a sealed value")
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise SealedDataError("not a sealed value") from None
        if len(blob) < NONCE_BYTES + 16:
            raise SealedDataError("not a sealed value")
        return kid, blob


def _associated(kid: str, context: str) -> bytes:
    return f"{SEALED_PREFIX}\x00{kid}\x00{context}".encode()
