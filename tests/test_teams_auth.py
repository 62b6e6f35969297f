"""The token check on /api/messages (bot/teams/auth.py), against a local stand-in for the Bot
Connector's and an Entra tenant's OpenID metadata and keys (tests/support/token_issuer.py), for
a single-tenant and a multi-tenant registration: what is accepted, and that every crafted or
broken token gets a 401 with one line in the log, never a 500 or a traceback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.config import TEAMS_MULTI_TENANT, TEAMS_SINGLE_TENANT, ConfigError, Settings
from bot.server import build_web_app
from bot.teams.app import auth_configuration
from bot.teams.auth import (
    SigningKeys,
    TokenPolicy,
    TokenRefused,
    TokenValidator,
    token_middleware,
)
from storage.db import Database
from tests.conftest import serving, teams_settings
from tests.support.fake_connector import FakeConnector
from tests.support.teams_requests import TENANT, TeamsClientSim, fixture
from tests.support.token_issuer import (
    APP_ID,
    CONNECTOR_KID,
    ENTRA_KID,
    OTHER_TENANT,
    SERVICE_URL,
    TokenIssuer,
    entra_issuer,
    new_key,
)

PASSWORD = "not-a-real-secret"


@dataclass(frozen=True)
class Keys:
    connector: rsa.RSAPrivateKey
    entra: rsa.RSAPrivateKey
    rogue: rsa.RSAPrivateKey


@pytest.fixture(scope="session")
def keys() -> Keys:
    """Made once per run, never written anywhere."""
    return Keys(new_key(), new_key(), new_key())


@pytest.fixture
async def issuer(keys: Keys) -> AsyncIterator[TokenIssuer]:
    server = TokenIssuer(keys.connector, keys.entra, keys.rogue)
    await server.start()
    yield server
    await server.stop()


def auth_settings(db_url: str, issuer: TokenIssuer, app_type: str = TEAMS_SINGLE_TENANT,
                  tenant: str | None = TENANT) -> Settings:
    return teams_settings(
        db_url, teams_auth_disabled=False, teams_app_id=APP_ID, teams_app_password=PASSWORD,
        teams_tenant_id=tenant, teams_app_type=app_type,
        teams_openid_metadata=issuer.connector_metadata,
        teams_entra_openid_metadata=issuer.entra_metadata)


def policy(issuer: TokenIssuer, tenant: str | None = TENANT) -> TokenPolicy:
    return TokenPolicy(APP_ID, tenant, issuer.connector_metadata, issuer.entra_metadata)


def activity(name: str = "personal_message.json", **overrides: Any) -> dict[str, Any]:
    return {**fixture(name), "serviceUrl": SERVICE_URL, **overrides}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """A token with `alg: none`: header and claims, no signature."""
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def hmac_signed(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """HS256 with `secret`, built by hand (PyJWT rightly refuses a public key as a secret)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def crafted(issuer: TokenIssuer, keys: Keys, service_url: str) -> dict[str, tuple[str, str]]:
    """Every kind of token the check must refuse, for a bot whose app id is APP_ID in TENANT,
    by what is wrong with it: the token, and the reason the log gives."""
    now = int(time.time())
    good = issuer.connector_claims(serviceurl=service_url)

    def connector(**changes: Any) -> dict[str, Any]:
        return {**good, **changes}

    def entra(tenant: str, version: int = 2, **changes: Any) -> dict[str, Any]:
        return issuer.entra_claims(tenant, version, **changes)

    public_pem = keys.connector.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "garbage": ("not-a-jwt", "not a readable JWT"),
        "three garbage parts": ("abc.def.ghi", "not a readable JWT"),
        "alg none": (unsigned(good, {"alg": "none", "typ": "JWT"}), "algorithm 'none'"),
        "alg none with a kid": (unsigned(good, {"alg": "none", "typ": "JWT",
                                                "kid": CONNECTOR_KID}), "algorithm 'none'"),
        # The public key used as an HMAC secret: the classic algorithm confusion.
        "HS256 with the public key": (hmac_signed(good, public_pem, CONNECTOR_KID),
                                      "algorithm 'HS256'"),
        "no kid": (issuer.sign(good, kid=None), "no key id"),
        "unknown kid": (issuer.sign(good, kid="no-such-key"), "unknown signing key"),
        "signed by another key": (issuer.sign(good, key=keys.rogue), "signature"),
        "wrong issuer": (issuer.sign(connector(iss="https://api.botframework.org")),
                         "issuer 'https://api.botframework.org' not accepted"),
        "issuer of a government cloud": (issuer.sign(connector(iss="https://api.botframework.us")),
                                         "not accepted"),
        "wrong audience": (issuer.sign(connector(aud="22222222-3333-4444-8555-666666666666")),
                           "audience"),
        "audience as a list": (issuer.sign(connector(aud=[APP_ID, "someone"])), "audience"),
        "expired": (issuer.sign(connector(exp=now - 3600, nbf=now - 7200)), "expired"),
        "not valid yet": (issuer.sign(connector(nbf=now + 3600)), "not valid yet"),
        "no expiry": (issuer.sign({k: v for k, v in good.items() if k != "exp"}), "no exp"),
        "another tenant": (issuer.sign(entra(OTHER_TENANT), kid=ENTRA_KID), "not accepted"),
        "another tenant, v1 issuer": (issuer.sign(entra(OTHER_TENANT, 1), kid=ENTRA_KID),
                                      "not accepted"),
        "our tenant's issuer with another tid": (
            issuer.sign(entra(TENANT, tid=OTHER_TENANT), kid=ENTRA_KID),
            # A multi-tenant bot refuses the issuer before looking at the tenant.
            "not accepted"),
        "another service url": (issuer.sign(connector(serviceurl="https://evil.example/")),
                                "serviceurl"),
    }


# --- the check itself, for each kind of registration ----------------------------------------


async def test_the_bot_connectors_token_is_accepted(issuer: TokenIssuer) -> None:
    validator = TokenValidator(policy(issuer))
    claims = await validator.validate(issuer.sign(issuer.connector_claims()), activity())
    assert (claims["iss"], claims["aud"]) == ("https://api.botframework.com", APP_ID)
    await validator.keys.close()


@pytest.mark.parametrize("version", [1, 2])
async def test_a_single_tenant_bot_accepts_entra_tokens_of_its_tenant(
    issuer: TokenIssuer, version: int,
) -> None:
    validator = TokenValidator(policy(issuer))
    token = issuer.sign(issuer.entra_claims(TENANT, version), kid=ENTRA_KID)
    claims = await validator.validate(token, activity())
    assert claims["iss"] == entra_issuer(TENANT, version)
    assert issuer.fetches[f"entra metadata {TENANT}"] == 1
    await validator.keys.close()


@pytest.mark.parametrize("version", [1, 2])
async def test_a_multi_tenant_bot_accepts_only_the_bot_connector(
    issuer: TokenIssuer, version: int,
) -> None:
    validator = TokenValidator(policy(issuer, tenant=None))
    await validator.validate(issuer.sign(issuer.connector_claims()), activity())
    # Any tenant can get an Entra token for a multi-tenant app: none is trusted.
    for tenant in (TENANT, OTHER_TENANT):
        token = issuer.sign(issuer.entra_claims(tenant, version), kid=ENTRA_KID)
        with pytest.raises(TokenRefused, match=r"issuer .* not accepted"):
            await validator.validate(token, activity())
    assert not any(name.startswith("entra") for name in issuer.fetches)
    await validator.keys.close()


async def test_a_clock_a_little_out_is_forgiven(issuer: TokenIssuer) -> None:
    validator = TokenValidator(policy(issuer))
    now = int(time.time())
    token = issuer.sign(issuer.connector_claims(exp=now - 120, nbf=now + 120))
    await validator.validate(token, activity())
    await validator.keys.close()


async def test_a_key_not_endorsed_for_the_channel_is_refused(issuer: TokenIssuer) -> None:
    validator = TokenValidator(policy(issuer))
    token = issuer.sign(issuer.connector_claims())
    with pytest.raises(TokenRefused, match="not endorsed for channel 'slack'"):
        await validator.validate(token, activity(channelId="slack"))
    await validator.validate(token, activity(channelId="emulator"))
    await validator.keys.close()


async def test_keys_are_fetched_once_and_an_unknown_kid_does_not_refetch_at_will(
    issuer: TokenIssuer,
) -> None:
    validator = TokenValidator(policy(issuer), SigningKeys())
    for _ in range(5):
        await validator.validate(issuer.sign(issuer.connector_claims()), activity())
    for _ in range(5):
        with pytest.raises(TokenRefused, match="unknown signing key"):
            await validator.validate(issuer.sign(issuer.connector_claims(), kid="rotated"),
                                     activity())
    assert issuer.fetches["connector metadata"] == 1
    assert issuer.fetches["connector keys"] == 1
    await validator.keys.close()


def test_each_registration_gets_its_tokens_from_the_right_tenant(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    base = teams_settings(url, teams_auth_disabled=False, teams_app_id=APP_ID,
                          teams_app_password=PASSWORD, teams_tenant_id=TENANT)
    assert auth_configuration(base).TENANT_ID == TENANT
    multi = teams_settings(url, teams_auth_disabled=False, teams_app_id=APP_ID,
                           teams_app_password=PASSWORD, teams_app_type=TEAMS_MULTI_TENANT)
    multi.require_teams()  # no tenant id needed
    assert auth_configuration(multi).TENANT_ID == "botframework.com"
    with pytest.raises(ConfigError, match="TEAMS_TENANT_ID"):
        teams_settings(url, teams_auth_disabled=False, teams_app_id=APP_ID,
                       teams_app_password=PASSWORD).require_teams()
    with pytest.raises(ConfigError, match="TEAMS_APP_TYPE must be SingleTenant or MultiTenant"):
        teams_settings(url, teams_auth_disabled=False, teams_app_id=APP_ID,
                       teams_app_password=PASSWORD, teams_tenant_id=TENANT,
                       teams_app_type="Tenantless").require_teams()
    with pytest.raises(ConfigError, match="TEAMS_OPENID_METADATA must be an https://"):
        teams_settings(url, teams_auth_disabled=False, teams_app_id=APP_ID,
                       teams_app_password=PASSWORD, teams_tenant_id=TENANT,
                       teams_openid_metadata="http://keys.example/").require_teams()


# --- through HTTP ----------------------------------------------------------------------------


@pytest.fixture(params=[TEAMS_SINGLE_TENANT, TEAMS_MULTI_TENANT])
async def server(request: pytest.FixtureRequest, sqlite_db: Database, issuer: TokenIssuer,
                 fake_connector: FakeConnector) -> AsyncIterator[TeamsClientSim]:
    """The real server with the token check on, for either kind of registration."""
    tenant = TENANT if request.param == TEAMS_SINGLE_TENANT else None
    settings = auth_settings(sqlite_db.url, issuer, request.param, tenant)
    async with serving(build_web_app(settings, sqlite_db)) as url, \
            aiohttp.ClientSession() as session:
        yield TeamsClientSim(session, f"{url}/api/messages", SERVICE_URL)


async def post(sim: TeamsClientSim, body: dict[str, Any],
               token: str) -> tuple[int, dict[str, Any]]:
    async with sim.session.post(sim.messages_url, json=body,
                                headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json(content_type=None)


async def test_every_crafted_token_gets_401_and_one_line_in_the_log(
    server: TeamsClientSim, issuer: TokenIssuer, keys: Keys, fake_connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The activities name the fake connector: were a token let through by mistake, the SDK
    # would refuse that loopback address (another answer) before calling anything outside.
    for name, (token, reason) in crafted(issuer, keys, fake_connector.service_url).items():
        for scope in (server.personal("partnership list"),
                      server.in_group_chat("partnership list"),
                      server.in_channel("partnership list")):
            caplog.clear()
            with caplog.at_level(logging.INFO):
                status, body = await post(
                    server, {**scope, "serviceUrl": fake_connector.service_url}, token)
            assert status == 401, name
            assert body == {"error": "That request is not signed by the Bot Framework for "
                                     "this bot."}, name
            records = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert len(records) == 1, (name, [r.getMessage() for r in records])
            line = records[0].getMessage()
            assert records[0].name == "bot.teams.auth" and records[0].exc_info is None, name
            assert line.startswith("Teams request refused (401): ") and "\n" not in line, name
            assert reason in line, (name, line)
            assert token not in line and len(line) < 300, name
    assert fake_connector.calls == []


@pytest.mark.parametrize("header", [
    "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b", "bearer\tx.y.z",
])
async def test_a_malformed_authorization_header_is_401(
    server: TeamsClientSim, header: str, caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        async with server.session.post(server.messages_url, json=activity(),
                                       headers={"Authorization": header}) as response:
            assert response.status == 401
    assert len(caplog.records) == 1


async def test_a_good_token_is_handed_on_to_the_sdk(
    server: TeamsClientSim, issuer: TokenIssuer,
) -> None:
    """Past the check, the SDK's adapter judges the activity itself: one without a
    conversation is a 400, not a 401."""
    broken = activity()
    del broken["conversation"]
    status, _ = await post(server, broken, issuer.sign(issuer.connector_claims()))
    assert status == 400


@pytest.fixture
async def probe(issuer: TokenIssuer) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """The token check in front of a handler that shows the claims the SDK would get."""
    async def claims(request: web.Request) -> web.Response:
        return web.json_response(request["claims_identity"].claims)

    app = web.Application(middlewares=[token_middleware(TokenValidator(policy(issuer)))])
    app.router.add_post("/api/messages", claims)
    async with serving(app) as url, aiohttp.ClientSession() as session:
        yield f"{url}/api/messages", session


@pytest.mark.parametrize("scope", ["personal_message.json", "group_chat_mention.json",
                                   "channel_mention.json"])
async def test_a_good_token_in_each_scope_passes_its_claims_on(
    probe: tuple[str, aiohttp.ClientSession], issuer: TokenIssuer, scope: str,
) -> None:
    url, session = probe
    token = issuer.sign(issuer.connector_claims())
    async with session.post(url, json=activity(scope),
                            headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
        assert (await response.json())["serviceurl"] == SERVICE_URL


async def test_keys_that_cannot_be_fetched_are_a_503_not_a_500(
    sqlite_db: Database, issuer: TokenIssuer, caplog: pytest.LogCaptureFixture,
) -> None:
    token = issuer.sign(issuer.connector_claims())
    await issuer.stop()  # nothing answers at the metadata address now
    settings = auth_settings(sqlite_db.url, issuer)
    async with serving(build_web_app(settings, sqlite_db)) as url, \
            aiohttp.ClientSession() as session:
        with caplog.at_level(logging.WARNING):
            async with session.post(f"{url}/api/messages", json=activity(),
                                    headers={"Authorization": f"Bearer {token}"}) as response:
                assert response.status == 503
    # One line says why (the access log's line for the 503 is the other).
    [record] = [r for r in caplog.records if r.name == "bot.teams.auth"]
    assert record.getMessage().startswith("Teams request refused (503): ")
