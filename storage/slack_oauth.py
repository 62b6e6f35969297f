"""Slack installations (one per workspace that installed the app), their bot tokens, and OAuth
states, kept in the bot's own database.

The tables and stores are slack-sdk's own SQLAlchemy ones; our Alembic migrations create the
tables. Token columns are TEXT rather than slack-sdk's VARCHAR(200), because an encrypted token
is about twice as long as the token. With a Fernet key (TOKEN_ENCRYPTION_KEY) every token is
encrypted on its way into the database and decrypted on its way out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import (
    Dialect,
    MetaData,
    Table,
    Text,
    and_,
    delete,
    desc,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator, TypeEngine

from storage.types import utcnow

if TYPE_CHECKING:
    # cryptography (about 9 MB) is imported only when a key is set: see token_cipher.
    from cryptography.fernet import MultiFernet

log = logging.getLogger(__name__)

INSTALLATIONS_TABLE = "slack_installations"
BOTS_TABLE = "slack_bots"
STATES_TABLE = "slack_oauth_states"
TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
# Every Fernet token starts so (version byte 0x80, then a timestamp's zero high bytes); Slack
# tokens start with "xox".
FERNET_PREFIX = "gAAAAA"
STATE_LIFETIME_SECONDS = 600

GENERATE_KEY_HINT = (
    "make one with `python -c \"from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())\"`"
)


class TokenKeyError(ValueError):
    """TOKEN_ENCRYPTION_KEY is not a usable Fernet key, or not the one tokens were stored with."""


def token_cipher(keys: str | None) -> MultiFernet | None:
    """The cipher for TOKEN_ENCRYPTION_KEY: one Fernet key, or several separated by commas (the
    first encrypts, all decrypt, so a key can be rotated). None when no key is set."""
    if not keys or not keys.strip():
        return None
    from cryptography.fernet import Fernet, MultiFernet

    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError:
        raise TokenKeyError(
            "TOKEN_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
            + GENERATE_KEY_HINT + "."
        ) from None


def _with_token_type(table: Table, token_type: TypeEngine[Any]) -> Table:
    for name in TOKEN_COLUMNS:
        if name in table.c:
            table.c[name].type = token_type
    return table


def define_tables(metadata: MetaData) -> None:
    """slack-sdk's installation, bot and OAuth state tables, as our migrations create them."""
    store = AsyncSQLAlchemyInstallationStore
    _with_token_type(store.build_installations_table(metadata, INSTALLATIONS_TABLE), Text())
    _with_token_type(store.build_bots_table(metadata, BOTS_TABLE), Text())
    AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE)


class EncryptedToken(TypeDecorator[str]):
    """A TEXT column holding a token: encrypted when a cipher is given, plain otherwise."""

    impl = Text
    cache_ok = True

    def __init__(self, cipher: MultiFernet | None) -> None:
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or self.cipher is None:
            return value
        return self.cipher.encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not value.startswith(FERNET_PREFIX):
            # Plain: stored before TOKEN_ENCRYPTION_KEY was set; encrypted when next saved.
            return value
        if self.cipher is None:
            log.error("a stored Slack token is encrypted but TOKEN_ENCRYPTION_KEY is not set")
            return None
        from cryptography.fernet import InvalidToken

        try:
            return self.cipher.decrypt(value.encode()).decode()
        except InvalidToken:
            log.error("a stored Slack token does not decrypt with TOKEN_ENCRYPTION_KEY "
                      "(was it stored with another key?)")
            return None


class SlackInstallationStore(AsyncSQLAlchemyInstallationStore):
    """slack-sdk's installation store on the bot's engine, with tokens encrypted at rest when a
    cipher is given."""

    def __init__(self, client_id: str, engine: AsyncEngine,
                 cipher: MultiFernet | None) -> None:
        super().__init__(client_id=client_id, engine=engine, bots_table_name=BOTS_TABLE,
                         installations_table_name=INSTALLATIONS_TABLE)
        self.cipher = cipher
        token_type = EncryptedToken(cipher)
        _with_token_type(self.installations, token_type)
        _with_token_type(self.bots, token_type)

    async def bot_token_for_workspace(self, workspace: str) -> str | None:
        """The newest bot token for this workspace key (bot/slack/payloads.py), or None: a
        team id finds the workspace's own install (by team id alone, so a workspace of an
        Enterprise Grid org that installed on its own is found too); an enterprise id finds the
        org-wide install."""
        bots = self.bots.c
        query = (
            select(bots.bot_token)
            .where(bots.client_id == self.client_id, bots.bot_token.is_not(None),
                   or_(bots.team_id == workspace,
                       and_(bots.enterprise_id == workspace,
                            bots.is_enterprise_install.is_(True))))
            .order_by(desc(bots.installed_at))
            .limit(1)
        )
        async with self.engine.connect() as conn:
            token: str | None = (await conn.execute(query)).scalar()
        return token

    async def check_tokens_readable(self) -> None:
        """TokenKeyError, in one line naming TOKEN_ENCRYPTION_KEY, when a stored token is
        encrypted and the configured keys cannot decrypt it (none set, or not the one used)."""
        # The tables with plain TEXT columns: the values as stored, not decrypted (and logged).
        raw = MetaData()
        define_tables(raw)
        unreadable = 0
        async with self.engine.connect() as conn:
            for name in (INSTALLATIONS_TABLE, BOTS_TABLE):
                table = raw.tables[name]
                columns = [table.c[c] for c in TOKEN_COLUMNS if c in table.c]
                for row in (await conn.execute(select(*columns))).all():
                    unreadable += sum(1 for value in row if not _readable(value, self.cipher))
        if not unreadable:
            return
        if self.cipher is None:
            raise TokenKeyError(
                f"{unreadable} stored Slack token(s) are encrypted but TOKEN_ENCRYPTION_KEY is "
                "not set: set it to the key they were encrypted with.")
        raise TokenKeyError(
            f"{unreadable} stored Slack token(s) do not decrypt with TOKEN_ENCRYPTION_KEY: set "
            "it to the key they were encrypted with (to change keys, list the new key first: "
            "TOKEN_ENCRYPTION_KEY=<new key>,<old key>).")


class SlackOAuthStateStore(AsyncSQLAlchemyOAuthStateStore):
    """slack-sdk's OAuth state store on the bot's engine; issuing a state also clears out the
    expired ones, so abandoned installs do not pile up."""

    def __init__(self, engine: AsyncEngine,
                 expiration_seconds: int = STATE_LIFETIME_SECONDS) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine,
                         table_name=STATES_TABLE)

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        # slack-sdk keeps expiry times as naive UTC.
        now = utcnow().replace(tzinfo=None)
        async with self.engine.begin() as conn:
            await conn.execute(delete(self.oauth_states).where(self.oauth_states.c.expire_at < now))
        state: str = await super().async_issue(*args, **kwargs)
        return state

    async def async_consume(self, state: str) -> bool:
        """Use the state up: true once for a state we issued that has not expired. One DELETE,
        so two browsers coming back with the same state cannot both succeed; a failure is
        logged without the state (slack-sdk's own store writes it into its warning)."""
        now = utcnow().replace(tzinfo=None)
        states = self.oauth_states
        try:
            async with self.engine.begin() as conn:
                used = await conn.execute(
                    delete(states).where(states.c.state == state, states.c.expire_at > now))
        except SQLAlchemyError as error:
            log.error("could not check an install state: %s", type(error).__name__)
            return False
        return bool(used.rowcount)


async def encrypt_stored_tokens(engine: AsyncEngine, cipher: MultiFernet) -> int:
    """Encrypt every stored token with the first key: plain ones (stored before a key was set)
    and ones under an older key. All or nothing; returns how many rows changed."""
    tables = MetaData()
    define_tables(tables)
    changed = 0
    async with engine.begin() as conn:
        for name in (INSTALLATIONS_TABLE, BOTS_TABLE):
            table = tables.tables[name]
            columns = [table.c[c] for c in TOKEN_COLUMNS if c in table.c]
            rows = (await conn.execute(select(table.c.id, *columns))).mappings().all()
            for row in rows:
                values = {c.name: _encrypt_again(cipher, row[c.name])
                          for c in columns if row[c.name]}
                if values:
                    await conn.execute(update(table).where(table.c.id == row["id"])
                                       .values(**values))
                    changed += 1
    return changed


def _readable(stored: str | None, cipher: MultiFernet | None) -> bool:
    if not stored or not stored.startswith(FERNET_PREFIX):
        return True  # none, or plain (stored before a key was set)
    if cipher is None:
        return False
    from cryptography.fernet import InvalidToken  # loaded with the cipher itself

    try:
        cipher.decrypt(stored.encode())
    except InvalidToken:
        return False
    return True


def _encrypt_again(cipher: MultiFernet, stored: str) -> str:
    if not stored.startswith(FERNET_PREFIX):
        return cipher.encrypt(stored.encode()).decode()
    from cryptography.fernet import InvalidToken

    try:
        return cipher.rotate(stored.encode()).decode()
    except InvalidToken:
        raise TokenKeyError(
            "A stored token does not decrypt with any key in TOKEN_ENCRYPTION_KEY; list the key "
            "it was stored with after the new one. Nothing was changed."
        ) from None
