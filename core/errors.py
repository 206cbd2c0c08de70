"""One DomainError hierarchy, mapped to ``{error: {code, message, fields}}`` with the right status."""
from __future__ import annotations

from typing import Any


class Msg(str):
    """A message with a stable code: the API sends the (English) text, the pages translate by ``code``.

    ``Msg("Only 3 left.", "only_left", n=3)`` is the string ``"Only 3 left."`` everywhere a string goes
    (JSON included), and carries ``code="only_left"`` and ``params={"n": 3}`` for the pages.
    """

    code: str
    params: dict[str, Any]

    def __new__(cls, text: str, code: str, **params: Any) -> Msg:
        obj = super().__new__(cls, text)
        obj.code = code
        obj.params = params
        return obj

    def __reduce__(self) -> Any:  # pickles (and copies) as itself, code and parameters included
        return (_msg, (str(self), self.code, self.params))


def _msg(text: str, code: str, params: dict[str, Any]) -> Msg:
    return Msg(text, code, **params)


def message_code(message: object) -> str | None:
    """The code of a message (a :class:`Msg`), or None for plain text."""
    return getattr(message, "code", None)


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, Any] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "fields": self.fields}
        body.update(self.extra)
        return {"error": body}


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class DeadlinePassed(Conflict):
    code = "deadline_passed"


class OutOfStock(Conflict):
    code = "out_of_stock"


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class ServiceUnavailable(DomainError):
    status = 503
    code = "unavailable"


def error_body(status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}
