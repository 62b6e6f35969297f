"""Who may call /api/messages: the checks on the bearer token every Teams request carries.

The Agents SDK's own JWT check is not used: it fetches keys only from Microsoft's fixed
addresses (so it cannot be tested against a key set of our own without patching it), checks the
issuer only when asked to, and a token without a `kid` header makes it raise (a 500). This guard
does what Microsoft's "authenticate requests from the Bot Connector service" steps ask, and
answers every token it does not accept with a 401 and one line in the log:

1. an `Authorization: Bearer <JWT>` header, signed with RS256 (no `none`, no shared secrets),
   naming its key (`kid`);
2. an issuer this bot accepts: the Bot Connector (`https://api.botframework.com`) always, and
   for a single-tenant registration also Entra ID tokens of that one tenant (v1 and v2
   issuers, with a matching `tid`); a multi-tenant registration accepts the Bot Connector only;
3. signed by a key from that issuer's OpenID metadata (its `jwks_uri`), fetched over HTTPS,
   kept for a day, fetched again at most every 5 minutes when an unknown key id turns up;
4. the audience is this bot's app id; not expired, not used before its time (5 minutes' skew);
5. the key is endorsed for the activity's channel (`msteams`), where the key lists
   endorsements, and the token's `serviceurl` claim is the activity's serviceUrl."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from microsoft_agents.hosting.core import ClaimsIdentity

from bot.config import (
    TEAMS_ENTRA_OPENID_METADATA_DEFAULT,
    TEAMS_OPENID_METADATA_DEFAULT,
    Settings,
)

log = logging.getLogger(__name__)

BOT_CONNECTOR_ISSUER = "https://api.botframework.com"
# Entra ID's v1 and v2 issuers for a tenant.
ENTRA_ISSUERS = ("https://sts.windows.net/{tenant}/",
                 "https://login.microsoftonline.com/{tenant}/v2.0")
ALGORITHM = "RS256"
CLOCK_SKEW_SECONDS = 300
KEYS_KEPT_SECONDS = 24 * 3600
UNKNOWN_KEY_REFETCH_SECONDS = 300
FETCH_TIMEOUT_SECONDS = 10

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TokenRefused(Exception):
    """The request's token is not accepted; the message is one short line, with nothing of the
    token itself in it."""


class KeysUnavailable(Exception):
    """The signing keys could not be fetched: nothing can be checked just now."""


@dataclass(frozen=True)
class TokenPolicy:
    """Which tokens this bot accepts: its app id, and its tenant (None: multi-tenant)."""

    app_id: str
    tenant_id: str | None = None
    bot_connector_metadata: str = TEAMS_OPENID_METADATA_DEFAULT
    entra_metadata: str = TEAMS_ENTRA_OPENID_METADATA_DEFAULT

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenPolicy:
        assert settings.teams_app_id is not None
        return cls(app_id=settings.teams_app_id,
                   tenant_id=settings.teams_tenant_id if settings.teams_single_tenant else None,
                   bot_connector_metadata=settings.teams_openid_metadata,
                   entra_metadata=settings.teams_entra_openid_metadata)

    def metadata_for(self, issuer: str) -> str | None:
        """The OpenID metadata holding the keys of an accepted issuer; None if not accepted."""
        if issuer == BOT_CONNECTOR_ISSUER:
            return self.bot_connector_metadata
        if self.tenant_id and issuer in self.entra_issuers():
            return self.entra_metadata.format(tenant=self.tenant_id)
        return None

    def entra_issuers(self) -> tuple[str, ...]:
        if not self.tenant_id:
            return ()
        return tuple(template.format(tenant=self.tenant_id) for template in ENTRA_ISSUERS)


@dataclass
class _KeySet:
    keys: dict[str, dict[str, Any]]
    fetched_at: float


@dataclass
class SigningKeys:
    """The keys named by OpenID metadata documents, fetched when first needed and kept."""

    _sets: dict[str, _KeySet] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _session: aiohttp.ClientSession | None = None

    async def key(self, metadata_url: str, kid: str) -> dict[str, Any] | None:
        """The JWK with id `kid` from the metadata's key set; None if it has no such key."""
        known = self._sets.get(metadata_url)
        age = time.monotonic() - known.fetched_at if known is not None else None
        if known is not None and age is not None and age < KEYS_KEPT_SECONDS and (
                kid in known.keys or age < UNKNOWN_KEY_REFETCH_SECONDS):
            return known.keys.get(kid)
        async with self._locks.setdefault(metadata_url, asyncio.Lock()):
            fresh = self._sets.get(metadata_url)
            if fresh is known:  # nobody fetched it while we waited
                try:
                    fresh = _KeySet(await self._fetch(metadata_url), time.monotonic())
                except KeysUnavailable:
                    if known is None or kid not in known.keys:
                        raise
                    log.warning("signing keys from %s could not be fetched again; using the "
                                "ones kept", metadata_url)
                    return known.keys[kid]
                self._sets[metadata_url] = fresh
        assert fresh is not None
        return fresh.keys.get(kid)

    async def _fetch(self, metadata_url: str) -> dict[str, dict[str, Any]]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS))
        try:
            metadata = await self._get_json(metadata_url)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str):
                raise KeysUnavailable(f"no jwks_uri in {metadata_url}")
            key_set = await self._get_json(jwks_uri)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise KeysUnavailable(f"{type(error).__name__} fetching {metadata_url}") from None
        keys = key_set.get("keys") if isinstance(key_set, dict) else None
        if not isinstance(keys, list):
            raise KeysUnavailable(f"no keys at the jwks_uri of {metadata_url}")
        return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}

    async def _get_json(self, url: str) -> Any:
        assert self._session is not None
        async with self._session.get(url) as response:
            response.raise_for_status()
            return json.loads(await response.read())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class TokenValidator:
    """Checks a bearer token against the policy, with keys from `keys`."""

    def __init__(self, policy: TokenPolicy, keys: SigningKeys | None = None) -> None:
        self.policy = policy
        self.keys = keys or SigningKeys()

    async def validate(self, token: str, activity: dict[str, Any]) -> dict[str, Any]:
        """The token's claims if it is accepted for this activity; TokenRefused otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenRefused("not a readable JWT") from None
        if header.get("alg") != ALGORITHM:
            raise TokenRefused(f"algorithm {_shown(header.get('alg'))} not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("no key id (kid) in the token header")
        issuer = unverified.get("iss")
        metadata_url = self.policy.metadata_for(issuer) if isinstance(issuer, str) else None
        if metadata_url is None or not isinstance(issuer, str):
            raise TokenRefused(f"issuer {_shown(issuer)} not accepted")
        if unverified.get("aud") != self.policy.app_id:
            # One audience, ours: a list naming others too is not a token meant for us alone.
            raise TokenRefused("audience is not this bot's app id")
        jwk = await self.keys.key(metadata_url, kid)
        if jwk is None:
            raise TokenRefused(f"unknown signing key {_shown(kid)} for issuer {issuer}")
        claims = self._verified(token, jwk, issuer)
        if issuer in self.policy.entra_issuers() and claims.get("tid") != self.policy.tenant_id:
            raise TokenRefused(f"tenant {_shown(claims.get('tid'))} not accepted")
        _check_endorsement(jwk, activity)
        _check_service_url(claims, activity)
        return claims

    def _verified(self, token: str, jwk: dict[str, Any], issuer: str) -> dict[str, Any]:
        try:
            key = jwt.PyJWK(jwk, algorithm=ALGORITHM)
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self.policy.app_id,
                issuer=issuer, leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise TokenRefused("token expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("token not valid yet") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused("audience is not this bot's app id") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenRefused(f"no {error.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise TokenRefused("signature does not verify") from None
        except jwt.PyJWTError as error:
            raise TokenRefused(f"token not accepted ({type(error).__name__})") from None
        return claims


def _check_endorsement(jwk: dict[str, Any], activity: dict[str, Any]) -> None:
    """Bot Connector keys list the channels they may sign for; the activity's must be one."""
    endorsements = jwk.get("endorsements")
    if isinstance(endorsements, list) and activity.get("channelId") not in endorsements:
        raise TokenRefused(f"key not endorsed for channel {_shown(activity.get('channelId'))}")


def _check_service_url(claims: dict[str, Any], activity: dict[str, Any]) -> None:
    claimed = claims.get("serviceurl")
    if claimed is None:
        return
    actual = activity.get("serviceUrl")
    if not isinstance(actual, str) or str(claimed).rstrip("/") != actual.rstrip("/"):
        raise TokenRefused("serviceurl claim does not match the activity's serviceUrl")


def _shown(value: Any) -> str:
    """A value from a token or request for a log line: quoted, short, on one line."""
    return repr(value if not isinstance(value, str) else value[:100])


def bearer_token(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        return None
    return token


async def _activity_json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def refused(reason: str, status: int = 401) -> web.Response:
    log.warning("Teams request refused (%s): %s", status, reason)
    message = ("That request is not signed by the Bot Framework for this bot."
               if status == 401 else "Can't check the request's signature just now.")
    return web.json_response({"error": message}, status=status)


def _identify(request: web.Request, identity: ClaimsIdentity) -> None:
    """Where the SDK's adapter reads the caller's claims: a plain string key, by its design."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", web.NotAppKeyWarning)
        request["claims_identity"] = identity


def token_middleware(validator: TokenValidator | None) -> Callable[..., Awaitable[Any]]:
    """aiohttp middleware that refuses requests without an accepted token and hands the
    caller's claims to the SDK's adapter; `validator` None lets everyone in (the Emulator)."""

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if validator is None:
            _identify(request, ClaimsIdentity())
            return await handler(request)
        header = request.headers.get("Authorization")
        token = bearer_token(header)
        if token is None:
            return refused("no bearer token" if header is None else "malformed Authorization")
        try:
            claims = await validator.validate(token, await _activity_json(request))
        except TokenRefused as error:
            return refused(str(error))
        except KeysUnavailable as error:
            return refused(str(error), status=503)
        _identify(request, ClaimsIdentity(claims, security_token=token))
        return await handler(request)

    return check_token
