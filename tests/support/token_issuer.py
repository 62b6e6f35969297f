"""A local stand-in for the places Teams' request tokens come from: the Bot Connector's OpenID
metadata and key set (login.botframework.com), and an Entra ID tenant's (login.microsoftonline.
com/<tenant>/v2.0), served over HTTP on loopback, with RSA keys made when the tests run (no key
is ever committed). It signs tokens the way those services do, and can be told to get them wrong.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support.teams_requests import TENANT

APP_ID = "11111111-2222-4333-8444-555555555555"
OTHER_TENANT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
BOT_CONNECTOR = "https://api.botframework.com"
SERVICE_URL = "https://smba.trafficmanager.net/uk/"
CONNECTOR_KID = "bf-test-key"
ENTRA_KID = "entra-test-key"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", **extra}


def entra_issuer(tenant: str, version: int = 2) -> str:
    return (f"https://login.microsoftonline.com/{tenant}/v2.0" if version == 2
            else f"https://sts.windows.net/{tenant}/")


class TokenIssuer:
    """Serves /botframework/... and /<tenant>/v2.0/... metadata and keys; mints tokens."""

    def __init__(self, connector_key: rsa.RSAPrivateKey, entra_key: rsa.RSAPrivateKey,
                 rogue_key: rsa.RSAPrivateKey) -> None:
        self.connector_key = connector_key
        self.entra_key = entra_key
        # Never published: a token it signs has a known kid but a signature that can't verify.
        self.rogue_key = rogue_key
        self.fetches: Counter[str] = Counter()
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    @property
    def connector_metadata(self) -> str:
        return f"{self.base_url}/botframework/v1/.well-known/openidconfiguration"

    @property
    def entra_metadata(self) -> str:
        return f"{self.base_url}/{{tenant}}/v2.0/.well-known/openid-configuration"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/botframework/v1/.well-known/openidconfiguration",
                           self._connector_metadata)
        app.router.add_get("/botframework/v1/.well-known/keys", self._connector_keys)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration",
                           self._entra_metadata)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._entra_keys)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _connector_metadata(self, request: web.Request) -> web.Response:
        self.fetches["connector metadata"] += 1
        return web.json_response({
            "issuer": BOT_CONNECTOR,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": f"{self.base_url}/botframework/v1/.well-known/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        })

    async def _connector_keys(self, request: web.Request) -> web.Response:
        self.fetches["connector keys"] += 1
        # The Bot Connector's keys name the channels they sign for.
        return web.json_response({"keys": [public_jwk(
            self.connector_key, CONNECTOR_KID, endorsements=["msteams", "emulator"])]})

    async def _entra_metadata(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        self.fetches[f"entra metadata {tenant}"] += 1
        return web.json_response({
            "issuer": entra_issuer(tenant),
            "jwks_uri": f"{self.base_url}/{tenant}/discovery/v2.0/keys",
        })

    async def _entra_keys(self, request: web.Request) -> web.Response:
        self.fetches["entra keys"] += 1
        return web.json_response({"keys": [public_jwk(self.entra_key, ENTRA_KID)]})

    def connector_claims(self, **overrides: Any) -> dict[str, Any]:
        """What the Bot Connector puts in the token it sends with each Teams activity."""
        now = int(time.time())
        claims = {"serviceurl": SERVICE_URL, "nbf": now - 60, "exp": now + 3600,
                  "iss": BOT_CONNECTOR, "aud": APP_ID}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def entra_claims(self, tenant: str = TENANT, version: int = 2,
                     **overrides: Any) -> dict[str, Any]:
        """An Entra ID app token for the bot, as a single-tenant bot's callers may send."""
        now = int(time.time())
        claims = {"iss": entra_issuer(tenant, version), "aud": APP_ID, "tid": tenant,
                  "nbf": now - 60, "iat": now - 60, "exp": now + 3600,
                  "azp" if version == 2 else "appid": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
                  "ver": f"{version}.0"}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, claims: dict[str, Any], *, kid: str | None = CONNECTOR_KID,
             key: rsa.RSAPrivateKey | None = None, algorithm: str = "RS256") -> str:
        headers = {"kid": kid} if kid is not None else {}
        signing_key = key or (self.entra_key if kid == ENTRA_KID else self.connector_key)
        return jwt.encode(claims, signing_key, algorithm=algorithm, headers=headers)
