"""Password hashing with scrypt (a slow, memory-hard KDF from the standard library).

Stored form: ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` so that the cost
can be raised later without breaking existing users.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from chequeverify.errors import InvalidInput

#: scrypt cost: n=2**17, r=8, p=1 (OWASP's minimum) takes 128 MiB and ~0.5 s on a 2-core CPU;
#: hashes stored with a lower cost are upgraded at the user's next login
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSWORD_LENGTH = 8


def check_password_rules(password: str) -> None:
    """Raise :class:`InvalidInput` unless the password is long enough."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt)}${b64(digest)}"


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with a lower cost (or another scheme) than :data:`SCRYPT_N`/``R``/``P``."""
    try:
        scheme, n, r, p, _, _ = stored.split("$")
        return scheme != "scrypt" or (int(n), int(r), int(p)) < (SCRYPT_N, SCRYPT_R, SCRYPT_P)
    except (ValueError, AttributeError):
        return True


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; with ``stored=None`` (unknown user) it still spends the KDF's time."""
    if stored is None:
        _scrypt(password, b"\0" * 16, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)
