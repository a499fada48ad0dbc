"""API keys: their format, their hash, and the record stored for each key.

A key is ``cas_live_`` or ``cas_test_`` followed by ``secrets.token_urlsafe(32)``: 43 URL-safe
base64 characters carrying 256 random bits. The service shows a key once, when it is created,
and stores only the SHA-256 hex digest of the whole key, so a copy of the table cannot be used
to call the API. Keys are looked up by that digest, so no secret text is ever compared and a
constant-time comparison is not needed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from cascade.domain.plans import KeyPlan

KEY_PREFIX_LENGTH = 12
KEY_ID_PATTERN = r"^key_[0-9a-f]{16}$"
MAX_NAME_LENGTH = 100

_RANDOM_BYTES = 32
_KEY_ID_BYTES = 8
# Generated keys carry 43 random characters. The parser also accepts longer ones, so that a later
# change to the number of random bytes does not lock out keys that were issued before it.
_KEY = re.compile(r"cas_(?:live|test)_[A-Za-z0-9_-]{32,128}")
# A header value longer than this cannot hold a valid key; rejecting it early keeps the work bounded.
_MAX_PRESENTED_LENGTH = 512
_SPACES = re.compile(r"[ \t]+")
_BEARER = "bearer"
_ACCOUNT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")


class KeyMode(StrEnum):
    """Whether a key calls real providers (``live``) or always the provider sandbox (``test``)."""

    LIVE = "live"
    TEST = "test"


class KeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


def validate_account_id(account_id: str) -> str:
    """Return ``account_id`` when it can key DynamoDB items; raise ``ValueError`` naming it otherwise.

    Account ids are 1 to 128 ASCII letters, digits and ``. _ : @ -``, starting with a letter or a
    digit. ``#`` is excluded because other tables join ids with it in composite keys.
    """
    if not _ACCOUNT_ID.fullmatch(account_id):
        raise ValueError(
            f"account id {account_id!r} is invalid; send 1 to 128 ASCII letters, digits and . _ : @ -, "
            "starting with a letter or a digit, such as acct_1f2e3d4c5b6a7988"
        )
    return account_id


def _validate_name(name: str) -> str:
    if not name.isprintable():
        raise ValueError(f"key name {name!r} contains control characters; send a one-line label")
    if name != name.strip():
        raise ValueError(f"key name {name!r} has leading or trailing spaces; send it trimmed")
    return name


class ApiKey(BaseModel):
    """The stored record of one API key; the key itself is never part of it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: Annotated[str, Field(pattern=KEY_ID_PATTERN, description="Public id: key_ and 16 hex digits.")]
    account_id: Annotated[str, AfterValidator(validate_account_id)]
    mode: KeyMode
    plan: KeyPlan
    status: KeyStatus
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None = None
    prefix: Annotated[
        str,
        Field(
            pattern=r"^cas_(live|test)_[A-Za-z0-9_-]{3}$",
            description="First 12 characters of the key, shown so that people can tell keys apart.",
        ),
    ]
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_validate_name)] | None = None

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if not self.prefix.startswith(f"cas_{self.mode.value}_"):
            raise ValueError(f"prefix {self.prefix!r} does not belong to a {self.mode.value} key")
        if (self.status is KeyStatus.REVOKED) != (self.revoked_at is not None):
            raise ValueError(f"a {self.status.value} key has revoked_at {self.revoked_at}; only revoked keys have one")
        if self.revoked_at is not None and self.revoked_at < self.created_at:
            raise ValueError(
                f"revoked_at {self.revoked_at.isoformat()} is before created_at {self.created_at.isoformat()}"
            )
        return self

    @property
    def active(self) -> bool:
        return self.status is KeyStatus.ACTIVE


def generate_key(mode: KeyMode) -> tuple[str, str, str]:
    """Generate a new key of ``mode``; return the key, its SHA-256 hex digest and its display prefix."""
    plaintext = f"cas_{KeyMode(mode).value}_{secrets.token_urlsafe(_RANDOM_BYTES)}"
    return plaintext, hash_key(plaintext), plaintext[:KEY_PREFIX_LENGTH]


def hash_key(plaintext: str) -> str:
    """Return the SHA-256 hex digest of a key's UTF-8 bytes, the only form in which keys are stored."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def new_key_id() -> str:
    """Return a new public key id, ``key_`` and 16 random hex digits."""
    return f"key_{secrets.token_hex(_KEY_ID_BYTES)}"


def parse_presented_key(text: str | None) -> str | None:
    """Extract an API key from an ``Authorization`` or ``x-api-key`` header value.

    Accepts ``Bearer <key>`` with the scheme in any letter case, and a bare ``<key>``, with any
    spaces or tabs around and between the parts. Returns ``None``, without raising, for anything
    else: no value, another scheme, extra parts, or a key that is not ``cas_live_`` or ``cas_test_``
    followed by 32 to 128 URL-safe base64 characters.
    """
    if not text or len(text) > _MAX_PRESENTED_LENGTH:
        return None
    parts = _SPACES.split(text.strip(" \t"))
    if len(parts) == 2 and parts[0].lower() == _BEARER:
        candidate = parts[1]
    elif len(parts) == 1:
        candidate = parts[0]
    else:
        return None
    return candidate if _KEY.fullmatch(candidate) else None
