"""The JSON API: flask-smorest with the contract's error shape and bearer-token auth."""
from __future__ import annotations

import re
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Flask, Response, current_app, jsonify, request
from flask_smorest import Api as SmorestApi
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from core.errors import DomainError, InvalidInput, error_body

_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
          422: "invalid", 429: "rate_limited", 500: "server_error", 503: "unavailable"}


# Ids are PostgreSQL integers: a larger number in a path names nothing (404), never a database error.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` of every route, bounded to what an id column can hold."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _id_param_schema(converter: IdConverter) -> dict[str, Any]:
    return {"type": "integer", "minimum": converter.min or 0, "maximum": converter.max}


def _bad_text(value: Any, where: str, out: dict[str, Any]) -> None:
    """Text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (lone surrogates), by field path."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            out[where or "_schema"] = ["Contains characters that are not allowed (NUL or invalid Unicode)."]
    elif isinstance(value, dict):
        for key, item in value.items():
            _bad_text(key, where, out)
            _bad_text(item, f"{where}.{key}" if where else str(key), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _bad_text(item, f"{where}.{i}" if where else str(i), out)


# A surrogate (U+D800..U+DFFF) written raw in UTF-8: Python's JSON parser decodes bytes with
# "surrogatepass", so it reaches the value.
_RAW_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")


def _may_hold_bad_text(body: bytes) -> bool:
    """Whether a JSON body could decode to a NUL or a lone surrogate: only through a ``\\u`` escape, a
    surrogate written raw, or NUL bytes (raw in a string the parser refuses it; a body in UTF-16 or
    UTF-32 is full of them, and is walked). Searching the bytes is far cheaper than walking the value."""
    return b"\\u" in body or b"\x00" in body or _RAW_SURROGATE.search(body) is not None


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest (a scalar is 0); without recursion, whatever the input."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


# Endpoints whose JSON may be larger than MAX_JSON_BYTES (a payment with a slip photo in base64), by
# endpoint name; a domain adds its own with allow_large_json(). MAX_CONTENT_LENGTH still bounds them.
LARGE_JSON: dict[str, int] = {}


def allow_large_json(endpoint: str, limit: int) -> None:
    """Let one endpoint take a JSON body up to ``limit`` bytes (it bounds what it reads itself)."""
    LARGE_JSON[endpoint] = limit


def limit_request() -> None:
    """Before anything reads the body (and before login): a JSON body larger than ``MAX_JSON_BYTES`` is
    a 413 unread; one nested deeper than ``MAX_JSON_DEPTH`` a 400 (Python's parser and every walk over the
    value would otherwise recurse once per level). Forms and uploads are bounded by Flask's
    ``MAX_FORM_MEMORY_SIZE`` (a url-encoded form as a whole, here) and ``MAX_CONTENT_LENGTH``."""
    if request.mimetype == "application/x-www-form-urlencoded":
        # Werkzeug reads such a form whole, so its memory limit is its size limit.
        form_limit = int(current_app.config.get("MAX_FORM_MEMORY_SIZE") or 500_000)
        if request.content_length is not None and request.content_length > form_limit:
            raise RequestEntityTooLarge(f"The form is larger than the limit of {form_limit:,} bytes.")
        request.max_content_length = form_limit
    if not request.is_json:
        return
    limit = LARGE_JSON.get(request.endpoint or "") or int(current_app.config.get("MAX_JSON_BYTES") or 1_000_000)
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"The JSON body is larger than the limit of {limit:,} bytes.")
    request.max_content_length = limit  # a body sent without a length is cut off at the limit too
    depth_limit = int(current_app.config.get("MAX_JSON_DEPTH") or 16)
    message = f"The JSON body is nested deeper than the limit of {depth_limit} levels."
    try:
        data = request.get_json(silent=True)
    except RecursionError as exc:
        raise BadRequest(message) from exc
    body = request.get_data(cache=True)
    # Each level opens a bracket: a body with no more brackets than the limit cannot be deeper (a
    # bracket inside a string only over-counts). Counting bytes is far cheaper than walking the value.
    if body.count(b"[") + body.count(b"{") > depth_limit and json_depth(data) > depth_limit:
        raise BadRequest(message)


def refuse_unstorable_text() -> None:
    bad: dict[str, Any] = {}
    for name, value in (request.view_args or {}).items():
        _bad_text(value, name, bad)
    for name, value in request.args.items(multi=True):
        _bad_text(name, name, bad)
        _bad_text(value, name, bad)
    if request.is_json and _may_hold_bad_text(request.get_data(cache=True)):
        _bad_text(request.get_json(silent=True), "", bad)
    if bad:
        raise InvalidInput("Some fields are not valid: " + ", ".join(sorted(bad)), bad)


# The only API endpoints that answer without a bearer token; a domain adds its own with public_endpoint().
PUBLIC_ENDPOINTS: set[str] = {"network_api.Tokens", "api-docs.openapi_json"}


def public_endpoint(endpoint: str) -> None:
    """Let an endpoint answer without a bearer token (it authenticates its caller some other way)."""
    PUBLIC_ENDPOINTS.add(endpoint)


def _flatten(messages: Any) -> dict[str, Any]:
    """webargs nests errors by location ({"json": {...}}); clients want the fields."""
    if isinstance(messages, dict):
        fields: dict[str, Any] = {}
        for location, errs in messages.items():
            if location in ("json", "query", "form", "view_args", "headers", "files") and isinstance(errs, dict):
                fields.update(errs)
            else:
                fields[location] = errs
        return fields
    return {"_schema": messages}


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "forbidden"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", required=True,
                          metadata={"description": "Field name -> messages (nested for lists and objects)"})

    class Meta:
        unknown = INCLUDE  # a few errors carry more, e.g. out_of_stock's "available"


class ErrorSchema(Schema):
    """The one error shape of the contract: {error: {code, message, fields}}."""

    error = fields.Nested(ErrorBodySchema, required=True)


# What an API view hands to flask-smorest's response decorator to dump: a model, a TypedDict, a list of
# them, or (body, headers). The decorator's schema, not the Python type, is the contract.
ApiResult = Any


class Api(SmorestApi):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> HTTPException | Response:
        if not request.path.startswith("/api/"):
            return error
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        fields = _flatten(data.get("messages", {})) if "messages" in data else {}
        if status == 422 and set(fields) == {"_schema"} and isinstance(fields["_schema"], list):
            message = " ".join(str(m) for m in fields["_schema"])  # about the body as a whole: said as it is
        elif status == 422:
            message = "Some fields are not valid: " + ", ".join(sorted(fields)) if fields else "Invalid input."
        elif status == 400 and "messages" in data:
            message = "The request body is not valid JSON."
        elif status == 413 and error.description == RequestEntityTooLarge.description:
            limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0
            message = f"The request is larger than the limit of {limit:,} bytes."
        else:
            message = error.description or error.name
        body = error_body(status, _CODES.get(status, "error"), message, fields)
        response = jsonify(body)
        response.status_code = status
        for name, value in ((getattr(error, "data", None) or {}).get("headers") or {}).items():
            response.headers[name] = value
        for name, value in error_headers(error).items():
            response.headers[name] = value
        return response


def error_headers(error: HTTPException) -> dict[str, str]:
    """What a refusal must say besides its body: ``Allow`` on a 405, ``Retry-After`` (seconds) on a 429."""
    headers: dict[str, str] = {}
    if error.code == 405:
        allow = error.get_response().headers.get("Allow")
        if allow:
            headers["Allow"] = allow
    if error.code == 429:
        headers["Retry-After"] = str(_retry_after(error))
    return headers


def _retry_after(error: HTTPException) -> int:
    """Seconds until the limit that was hit lets the caller in again (its window, when it cannot tell)."""
    import time

    from core.web import limiter

    try:
        current = limiter.current_limit
        if current is not None and current.reset_at:
            return max(1, int(current.reset_at - time.time()) + 1)
        limit = getattr(error, "limit", None)
        if limit is not None:
            return max(1, int(limit.limit.get_expiry()))
    except Exception:  # noqa: BLE001 - a limiter store that is down must not turn a 429 into a 500
        pass
    return 60


class _Converter(OpenAPIConverter):
    """Schemas say what marshmallow cannot put in the document by itself: ``Meta.min_properties``."""

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        out: dict[str, Any] = super().schema2jsonschema(schema)  # type: ignore[no-untyped-call]
        minimum = getattr(getattr(schema, "Meta", None), "min_properties", None)
        if minimum:
            out["minProperties"] = minimum
        return out


class _MarshmallowPlugin(MarshmallowPlugin):
    Converter = _Converter


def get_api(app: Flask) -> Api:
    api: Api = app.extensions["ruamsue_api"]
    return api


def init_app(app: Flask) -> None:
    # Before any route is added: every <int:...> of the app (API and pages) is a bounded id.
    app.url_map.converters["int"] = IdConverter
    # One Api per app: tests build several apps in one process.
    api = Api()
    api.init_app(app, spec_kwargs={"servers": [{"url": "/"}], "marshmallow_plugin": _MarshmallowPlugin()})
    app.extensions["ruamsue_api"] = api
    api.register_converter(IdConverter, _id_param_schema)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
    from core.imports_api import blp as imports_blp
    from core.jobs_api import blp as jobs_blp
    from core.web import csrf

    api.register_blueprint(jobs_blp)
    csrf.exempt(jobs_blp)
    api.register_blueprint(imports_blp)
    csrf.exempt(imports_blp)

    # First of all: nothing reads a body larger or deeper than the limits (core.api.limit_request).
    app.before_request(limit_request)

    @app.before_request
    def _api_needs_a_token() -> None:
        # Who is asking is settled before anything else: an anonymous or revoked caller gets 401,
        # never a validation error or a 404 that tells it about the request or the data.
        if not request.path.startswith("/api/") or request.endpoint is None or request.method == "OPTIONS":
            return
        if request.endpoint not in PUBLIC_ENDPOINTS:
            from core.auth import api_actor

            api_actor()
        refuse_unstorable_text()

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        from core.db import db

        db.session.rollback()
        response = jsonify(error.to_dict())
        response.status_code = error.status
        return response
