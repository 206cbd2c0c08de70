"""A stand-in for LINE Login on 127.0.0.1: an OpenID Connect provider (discovery, authorize, token, JWKS)
that checks what Authlib sends (client secret, redirect URI, PKCE S256 verifier, one use of each code)
and issues ID tokens signed as LINE signs them: ES256 with a key published at jwks_uri, or HS256 with
the channel secret. ``tamper`` spoils the next ID token in one way, to see it refused."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from tests.stand_in import serving

CHANNEL_ID = "1657000000"
CHANNEL_SECRET = "login-channel-secret-0123456789ab"


@dataclass
class Provider:
    url: str = ""
    key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", parameters={"kid": "line-key-1"}))
    user: str = ""  # the LINE user who "logs in" at the authorize step
    algorithm: str = "ES256"
    tamper: str | None = None  # signature | nonce | audience | issuer | expired | hs256_wrong_secret
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    tokens_issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def id_token(self, grant: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "sub": grant["sub"], "aud": CHANNEL_ID, "exp": now + 3600, "iat": now,
                  "nonce": grant["nonce"], "amr": ["linesso"], "name": "ผู้ใช้ LINE"}
        tamper, self.tamper = self.tamper, None
        if tamper == "nonce":
            claims["nonce"] = "another-nonce"
        elif tamper == "audience":
            claims["aud"] = "1999999999"
        elif tamper == "issuer":
            claims["iss"] = "https://evil.example"
        elif tamper == "expired":
            claims["exp"], claims["iat"] = now - 3600, now - 7200
        if tamper == "hs256_wrong_secret":  # signed as a web app's token, but not with the channel secret
            token = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key("not-the-channel-secret-0000000000"))
        elif self.algorithm == "HS256":
            token = jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(CHANNEL_SECRET))
        else:
            token = jwt.encode({"alg": "ES256", "kid": "line-key-1"}, claims, self.key)
        if tamper == "signature":
            head, body, signature = token.split(".")
            claims["sub"] = "U" + "e" * 32  # someone else, with the original signature
            forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            token = f"{head}.{forged}.{signature}"
        return token


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            if parts.path == "/.well-known/openid-configuration":
                base = provider.url
                return self._json(200, {
                    "issuer": base, "authorization_endpoint": f"{base}/oauth2/v2.1/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.1/token", "jwks_uri": f"{base}/oauth2/v2.1/certs",
                    "response_types_supported": ["code"], "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["ES256"], "code_challenge_methods_supported": ["S256"]})
            if parts.path == "/oauth2/v2.1/certs":
                return self._json(200, {"keys": [provider.key.as_dict(private=False)]})
            if parts.path == "/oauth2/v2.1/authorize":
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                problems = [f"{name} {query.get(name)!r}" for name, want in
                            (("response_type", "code"), ("client_id", CHANNEL_ID), ("code_challenge_method", "S256"))
                            if query.get(name) != want]
                problems += [f"no {name}" for name in ("state", "nonce", "code_challenge", "redirect_uri")
                             if not query.get(name)]
                if "openid" not in (query.get("scope") or "").split():
                    problems.append("scope without openid")
                with provider.lock:
                    provider.problems.extend(problems)
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"sub": provider.user, "nonce": query.get("nonce"),
                                            "challenge": query.get("code_challenge"),
                                            "redirect_uri": query.get("redirect_uri")}
                target = f"{query.get('redirect_uri')}?{urlencode({'code': code, 'state': query.get('state', '')})}"
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802
            if urlsplit(self.path).path != "/oauth2/v2.1/token":
                return self._json(404, {"error": "not_found"})
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0))
                                                  .decode()).items()}
            with provider.lock:
                grant = provider.codes.pop(form.get("code", ""), None)  # one use
                problems = []
                if grant is None:
                    problems.append("unknown or used code")
                if form.get("grant_type") != "authorization_code":
                    problems.append(f"grant_type {form.get('grant_type')!r}")
                if form.get("client_id") != CHANNEL_ID or form.get("client_secret") != CHANNEL_SECRET:
                    problems.append("client credentials")
                if grant is not None:
                    if form.get("redirect_uri") != grant["redirect_uri"]:
                        problems.append("redirect_uri differs")
                    verifier = form.get("code_verifier") or ""
                    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                    if challenge.decode() != grant["challenge"]:
                        problems.append("PKCE verifier does not match")
                if problems:
                    provider.problems.extend(problems)
                    return self._json(400, {"error": "invalid_grant", "error_description": "; ".join(problems)})
                provider.tokens_issued += 1
                assert grant is not None
                id_token = provider.id_token(grant)
            return self._json(200, {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                                    "expires_in": 2592000, "scope": "openid profile", "id_token": id_token,
                                    "refresh_token": secrets.token_urlsafe(16)})

    return Handler


@contextmanager
def line_login_provider() -> Iterator[Provider]:
    provider = Provider()
    with serving(_handler(provider)) as url:
        provider.url = url
        yield provider


def settings(provider: Provider) -> dict[str, str]:
    """The app's configuration that points LINE Login at the stand-in."""
    return {"LINE_LOGIN_CHANNEL_ID": CHANNEL_ID, "LINE_LOGIN_CHANNEL_SECRET": CHANNEL_SECRET,
            "LINE_LOGIN_METADATA_URL": f"{provider.url}/.well-known/openid-configuration"}
