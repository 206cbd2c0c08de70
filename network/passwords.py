"""The password rule, one for every entry point (API, pages, the CLI's ``network create``): at least
``MIN_LENGTH`` characters, at most ``MAX_LENGTH``, not one of the passwords people use most (which are
tried first by anyone guessing), not one character repeated, not the account's own e-mail."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from core.errors import InvalidInput, Msg

MIN_LENGTH = 8
MAX_LENGTH = 200
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The list of common passwords (lower case), read once."""
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: object, *, email: str = "") -> Msg | None:
    """Why a password is refused (a message the pages translate by its code), or None."""
    if not isinstance(password, str):
        return Msg("Must be text.", "field_text")
    if len(password) < MIN_LENGTH:
        return Msg(f"At least {MIN_LENGTH} characters.", "password_short", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return Msg(f"At most {MAX_LENGTH} characters.", "field_too_long", n=f"{MAX_LENGTH:,}")
    lowered = password.lower()
    if lowered in common_passwords() or len(set(lowered)) == 1:
        return Msg("One of the most common passwords: choose another.", "password_common")
    if email and lowered in (email.lower(), email.lower().split("@", 1)[0]):
        return Msg("Must not be your e-mail.", "password_is_email")
    return None


def require_password(field: str, password: object, *, email: str = "") -> str:
    problem = password_problem(password, email=email)
    if problem is not None:
        raise InvalidInput(Msg(f"{field}: {problem}", "field_invalid", field=field), {field: [problem]})
    assert isinstance(password, str)
    return password
