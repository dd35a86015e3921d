"""Passwords: argon2id hashes, a check of the same cost for names that do not exist, and the
policy a new password must meet.

:func:`verify_password` with no stored hash (an unknown user name, a machine client without a
password) still runs one argon2 verification, against a hash made once per process, so that a
wrong name costs as long as a wrong password: the answer's timing does not tell which names
exist.

:func:`password_problems` refuses a password shorter than :data:`MIN_PASSWORD_LENGTH`, one of the
10,000 most common passwords (``common-passwords.txt.gz``, from Django's list; see
``LICENSE.common-passwords``), and the user's own name or display name (also with digits or
punctuation around it: ``li.na2024``).
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from citygrowth.errors import Problem

MIN_PASSWORD_LENGTH = 8
COMMON = Path(__file__).parent / "common-passwords.txt.gz"
_hasher = PasswordHasher()
_NOT_LETTERS = re.compile(r"[\W\d_]+")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("citygrowth: a password nobody has")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``password_hash``. Without a hash the same work is done
    against a dummy one, and the answer is False."""
    try:
        matched = _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return bool(matched and password_hash)


@cache
def common_passwords() -> frozenset[str]:
    """The deny-list, lower case."""
    with gzip.open(COMMON, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def _letters(text: str) -> str:
    return _NOT_LETTERS.sub("", text).casefold()


def password_problems(password: str, username: str = "",
                      display_name: str = "") -> list[Problem]:
    """What is wrong with ``password`` as a new password of this user (empty when nothing)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [Problem(message="A password needs at least {n} characters.",
                        params={"n": MIN_PASSWORD_LENGTH}, field="password")]
    if password.strip().lower() in common_passwords():
        return [Problem(message="This password is one of the 10,000 most common passwords; "
                        "choose another.", field="password")]
    core = _letters(password)
    names = {n for n in (_letters(username), _letters(display_name)) if n}
    if password.strip().casefold() in {username.casefold(), display_name.casefold()} \
            or core in names:
        return [Problem(message="A password may not be your user name or your name.",
                        field="password")]
    return []
