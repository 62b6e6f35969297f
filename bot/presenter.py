"""Showing an outcome to the person who asked, the same way on every platform.

The core answers every input with an `Outcome`; `present` shows it: a form to fill in, the posts
for the partnership's channels, the message the button was pressed on brought up to date, the
files for the person alone and the reply. Each platform implements `Surface`: what it can do in
the conversation one request came from (Slack: a response_url, a trigger_id, the message a
button was on; Teams: the turn and the card; the shell: its output)."""

from __future__ import annotations

from typing import Protocol

from bot.delivery import Delivery, with_problems
from handlers.forms import Form
from handlers.replies import Attachment, Outcome, Reply


class Surface(Protocol):
    """One request's conversation, and what its platform can do there."""

    @property
    def request_id(self) -> str | None:
        """What identifies this request across the platform's retries and replays (so the
        core runs it once), or None where the platform never repeats itself."""

    async def open_form(self, form: Form) -> bool:
        """Show `form` to fill in; False where it cannot be shown (the reply then says what
        to type instead)."""

    async def update_source(self, reply: Reply) -> None:
        """Bring the message the request came from (the card a button is on) up to date."""

    async def reply(self, reply: Reply, files: list[Attachment], form: Form | None) -> None:
        """Tell the person: privately unless the reply is public, with `files` for them
        alone, and `form` (when it could not be opened) as the fields to type."""


async def present(outcome: Outcome, surface: Surface, delivery: Delivery) -> None:
    """Show `outcome` to the person who asked, through `surface`."""
    if outcome.repeated:
        # It ran before and was shown then: nothing is posted, opened or sent again; the person
        # is only told that it was already done.
        await surface.reply(outcome.reply, [], None)
        return
    # A form is opened first: Slack's trigger_id lives only about three seconds. The form
    # then stands for the reply; what else the outcome changed (a card) is still shown.
    if outcome.form is not None and await surface.open_form(outcome.form):
        if outcome.channel_posts:
            await delivery.deliver(outcome.channel_posts)
        if outcome.updated_message is not None:
            await surface.update_source(outcome.updated_message)
        return
    problems = await delivery.deliver(outcome.channel_posts)
    if outcome.updated_message is not None:
        await surface.update_source(outcome.updated_message)
    await surface.reply(with_problems(outcome.reply, problems), outcome.files, outcome.form)
