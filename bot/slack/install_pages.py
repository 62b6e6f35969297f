"""The pages an admin sees when Slack sends them back from installing the bot: installed,
cancelled, expired, or failed. Written here, in plain English; none of them shows anything
from the address the browser came back with (its `error`, `code` or `state`), so a crafted
link cannot put words on our page. Each ends with a way back to Slack.

They are Bolt's OAuth callback handlers (`AsyncCallbackOptions`)."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.response import BoltResponse
from slack_sdk.oauth import OAuthStateUtils
from slack_sdk.oauth.installation_store import Installation

from bot import logs

log = logging.getLogger(__name__)

SLACK_IN_BROWSER = "https://app.slack.com/client"
# Slack ids are upper-case letters and digits; only such ids go into our links.
_SLACK_ID = re.compile(r"[A-Z0-9]{2,32}")
# The failures Bolt names itself; anything else came in the `error` parameter, which is
# whatever the link said and so is never shown or logged.
_KNOWN_FAILURES = {"missing_code", "invalid_code", "storage_error"}
_EXPIRED = {"invalid_state", "invalid_browser"}
CANCELLED = "access_denied"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       background: #f6f7f9; color: #1d1c1d; }
main { max-width: 34rem; margin: 4rem auto; padding: 2rem 2.5rem; background: #fff;
       border-radius: 8px; box-shadow: 0 1px 3px rgba(0, 0, 0, .12); line-height: 1.5; }
h1 { font-size: 1.4rem; margin-top: 0; color: #2c4a6e; }
a.button { display: inline-block; margin: .5rem .75rem .5rem 0; padding: .6rem 1.1rem;
           background: #2c4a6e; color: #fff; border-radius: 4px; text-decoration: none; }
a.plain { color: #2c4a6e; }
small { color: #616061; }
"""

# No scripts, nothing from elsewhere, never framed, never cached, and no Referer sent on: the
# address holds the install code until the page is left.
_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "frame-ancestors 'none'; form-action 'none'",
}


@dataclass(frozen=True)
class Page:
    title: str
    paragraphs: list[str]  # HTML: built here from our own words and escaped values
    status: int


def page_html(page: Page) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in page.paragraphs)
    return (f'<!doctype html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="referrer" content="no-referrer">\n'
            f"<title>{html.escape(page.title)} · Partnership Bot</title>\n"
            f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{html.escape(page.title)}</h1>\n{body}\n</main>\n</body>\n</html>\n")


def _link(url: str, text: str, css: str = "button") -> str:
    return f'<a class="{css}" href="{html.escape(url)}">{html.escape(text)}</a>'


def installed_page(installation: Installation) -> Page:
    """Installed in a workspace, or for a whole Enterprise Grid org."""
    app_id = _slack_id(installation.app_id)
    if installation.is_enterprise_install:
        org = html.escape(installation.enterprise_name or "your organisation")
        where = installation.enterprise_url or ""
        manage = (f"{where}manage/organization/apps/profile/{app_id}/workspaces/add"
                  if where.startswith("https://") and app_id else SLACK_IN_BROWSER)
        return Page("Partnership Bot is installed for your organisation", [
            f"Partnership Bot is now installed for <strong>{org}</strong>, across the whole "
            "organisation: partnerships, schools and meetings are shared by all its "
            "workspaces.",
            "Next, an org admin chooses which workspaces get it. Then type "
            "<code>/partnership help</code> in any channel of those workspaces to start.",
            _link(manage, "Choose workspaces in Slack"),
        ], 200)
    team_id = _slack_id(installation.team_id)
    team = html.escape(installation.team_name or "your workspace")
    open_app = (f"slack://app?team={team_id}&id={app_id}" if team_id and app_id
                else "slack://open")
    in_browser = f"{SLACK_IN_BROWSER}/{team_id}" if team_id else SLACK_IN_BROWSER
    return Page("Partnership Bot is installed", [
        f"Partnership Bot is now installed in <strong>{team}</strong>. Type "
        "<code>/partnership help</code> in any channel to see what it can do; whoever creates "
        "a partnership becomes its lead.",
        _link(open_app, "Open Slack") + _link(in_browser, "Open Slack in your browser",
                                              "plain"),
    ], 200)


def cancelled_page(install_path: str) -> Page:
    return Page("You cancelled the install", [
        "Partnership Bot was not installed, and nothing about your workspace was kept.",
        "Changed your mind? You can start again at any time.",
        _link(install_path, "Add Partnership Bot to Slack")
        + _link(SLACK_IN_BROWSER, "Back to Slack", "plain"),
    ], 200)


def expired_page(install_path: str, status: int) -> Page:
    return Page("This install link has expired", [
        "Install links work once, for ten minutes, in the browser that opened them. This one "
        "has run out, was already used, or was opened in another browser, so nothing was "
        "installed.",
        _link(install_path, "Start the install again")
        + _link(SLACK_IN_BROWSER, "Back to Slack", "plain"),
    ], status)


def failed_page(install_path: str, status: int, reference: str | None) -> Page:
    quote = (f" and quote reference <code>{html.escape(reference)}</code>" if reference
             else "")
    return Page("The install did not finish", [
        "Slack did not confirm the install, so Partnership Bot was not installed and nothing "
        "was kept. This is usually a passing problem: please start again.",
        f"If it fails again, tell whoever runs Partnership Bot{quote}.",
        _link(install_path, "Start the install again")
        + _link(SLACK_IN_BROWSER, "Back to Slack", "plain"),
    ], status)


def _slack_id(value: str | None) -> str | None:
    return value if value and _SLACK_ID.fullmatch(value) else None


class InstallPages(AsyncCallbackOptions):
    """Bolt's success and failure callbacks, answering with our pages. Both also clear the
    browser's install-state cookie, as Bolt's own pages do."""

    def __init__(self, install_path: str, state_utils: OAuthStateUtils) -> None:
        super().__init__(success=self.on_success, failure=self.on_failure)
        self.install_path = install_path
        self.state_utils = state_utils

    async def on_success(self, args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        org_wide = bool(installation.is_enterprise_install)
        workspace = installation.enterprise_id if org_wide else installation.team_id
        logs.bind(workspace=workspace)
        log.info("installed", extra={"org_wide": org_wide})
        return self._answer(installed_page(installation))

    async def on_failure(self, args: AsyncFailureArgs) -> BoltResponse:
        status = args.suggested_status_code
        reason = args.reason
        if reason == CANCELLED:
            log.info("install cancelled by the installer", extra={"outcome": "cancelled"})
            return self._answer(cancelled_page(self.install_path))
        if reason in _EXPIRED:
            log.warning("install refused: %s", reason, extra={"outcome": "expired"})
            return self._answer(expired_page(self.install_path, status))
        known = reason if reason in _KNOWN_FAILURES else "slack_error"
        log.warning("install failed: %s", known, extra={"outcome": "failed"},
                    exc_info=args.error)
        # Slack sent an error of its own: not the installer's doing, but not ours to show.
        status = status if known != "slack_error" else 400
        return self._answer(failed_page(self.install_path, status,
                                        logs.current_context().get("request_id")))

    def _answer(self, page: Page) -> BoltResponse:
        headers: dict[str, str | Sequence[str]] = {
            **_HEADERS, "Set-Cookie": self.state_utils.build_set_cookie_for_deletion()}
        return BoltResponse(status=page.status, body=page_html(page), headers=headers)
