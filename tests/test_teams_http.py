"""Teams through the real server: Bot Framework activities (Teams' documented JSON) posted to
/api/messages, the bot's answers captured by the fake Bot Connector at the activity's
serviceUrl."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from storage.models import ChannelLink, Member, Partnership
from tests.conftest import RunningTeamsBot
from tests.support.cards import card_text, elements
from tests.support.fake_connector import REPLY, SEND, UPDATE
from tests.support.stand_ins import AskForm, stand_ins
from tests.support.teams_requests import (
    BOT_ID,
    CARD_ID,
    CHANNEL_ID,
    TENANT,
    USER_AAD_ID,
    fixture,
)


async def test_help_in_a_personal_chat_answers_with_a_card(teams_bot: RunningTeamsBot) -> None:
    asked = teams_bot.teams.personal("help")
    response = await teams_bot.teams.post(asked)
    assert response.status == 202
    call = (await teams_bot.connector.wait_for(REPLY))[0]
    assert call.conversation_id == fixture("personal_message.json")["conversation"]["id"]
    assert call.activity_id == asked["id"]  # a reply to the person's message
    assert not call.targeted  # a personal chat is private already
    assert "Authorization" not in call.headers  # authentication is off, as for the Emulator
    body = call.body
    assert body["type"] == "message"
    assert body["from"]["id"] == BOT_ID
    assert body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    text = card_text(call.card)
    # Commands are shown as typed in Teams: no slash.
    assert "**partnership join East Barnet Area school: Monkfrith role: headteacher**" in text
    assert "/partnership" not in text
    assert "mention me first" in text


async def test_join_in_a_channel_strips_the_mention_and_answers_privately(
    teams_bot: RunningTeamsBot,
) -> None:
    await teams_bot.teams.say("partnership create East Barnet Area")
    await teams_bot.connector.wait_for(REPLY)
    await teams_bot.teams.say(
        "partnership join East Barnet Area school: Monkfrith role: headteacher", channel=True)
    call = (await teams_bot.connector.wait_for(REPLY, 2))[1]
    # Only the person who asked sees the confirmation: a targeted reply in the thread.
    assert call.targeted
    assert call.body["recipient"]["id"].startswith("29:")
    assert call.conversation_id.startswith(CHANNEL_ID)
    assert "You are in East Barnet Area for Monkfrith" in card_text(call.card)
    async with teams_bot.db.session() as session:
        member = (await session.exec(select(Member))).one()
        partnership = (await session.exec(select(Partnership))).one()
    # The same person as in the personal chat: one identity, their Entra object id.
    assert (member.platform, member.user_id, member.display_name) == (
        "teams", USER_AAD_ID, "Jo Whitfield")
    assert member.job_title == "Headteacher"
    assert partnership.workspace == TENANT


@pytest.mark.parametrize("text", ["/help", "", "HELP"])
async def test_help_from_the_slash_menu_or_a_bare_mention(teams_bot: RunningTeamsBot,
                                                          text: str) -> None:
    await teams_bot.teams.say(text, channel=True)
    text_shown = card_text((await teams_bot.connector.wait_for(REPLY))[0].card)
    assert "Partnership Bot: your school improvement partnerships" in text_shown


async def test_a_slash_before_the_command_is_fine(teams_bot: RunningTeamsBot) -> None:
    await teams_bot.teams.say("/partnership list")
    assert "no partnerships here yet" in card_text(
        (await teams_bot.connector.wait_for(REPLY))[0].card)


async def test_a_typo_gets_a_polite_reply_with_an_example(teams_bot: RunningTeamsBot) -> None:
    await teams_bot.teams.say("partnership jion East Barnet Area")
    text = card_text((await teams_bot.connector.wait_for(REPLY))[0].card)
    assert "I don't know" in text and "jion" in text
    assert "**partnership help**" in text


async def test_an_unknown_command_lists_the_ones_there_are(teams_bot: RunningTeamsBot) -> None:
    await teams_bot.teams.say("hello there")
    text = card_text((await teams_bot.connector.wait_for(REPLY))[0].card)
    assert "I don't know the command" in text
    assert "**partnership**" in text


async def test_linking_a_channel_stores_its_reference_and_announces_there(
    teams_bot: RunningTeamsBot,
) -> None:
    await teams_bot.teams.say("partnership create East Barnet Area")
    await teams_bot.connector.wait_for(REPLY)
    await teams_bot.teams.say("partnership channel east barnet area", channel=True)
    # The announcement is a new post in the channel itself, sent proactively...
    announcement = (await teams_bot.connector.wait_for(SEND))[0]
    assert announcement.conversation_id == CHANNEL_ID
    assert "now linked to East Barnet Area" in card_text(announcement.card)
    # ...and the confirmation a private reply to the person who asked.
    confirmation = (await teams_bot.connector.wait_for(REPLY, 2))[1]
    assert confirmation.targeted
    assert "Linked this channel" in card_text(confirmation.card)
    async with teams_bot.db.session() as session:
        link = (await session.exec(select(ChannelLink))).one()
    assert (link.platform, link.channel_id, link.channel_name) == ("teams", CHANNEL_ID, "Heads")
    assert link.conversation_ref is not None
    reference = json.loads(link.conversation_ref)
    assert reference["conversation"]["id"] == CHANNEL_ID  # the channel, not the thread
    assert reference["serviceUrl"] == teams_bot.connector.service_url
    assert reference["bot"]["id"] == BOT_ID


async def test_linking_in_a_personal_chat_is_refused_politely(teams_bot: RunningTeamsBot) -> None:
    await teams_bot.teams.say("partnership create East Barnet Area")
    await teams_bot.teams.say("partnership channel East Barnet Area")
    text = card_text((await teams_bot.connector.wait_for(REPLY, 2))[1].card)
    assert "only link a channel when you ask from inside it" in text


async def test_a_forged_mention_in_a_name_is_shown_not_rendered(
    teams_bot: RunningTeamsBot,
) -> None:
    await teams_bot.teams.say("partnership create <at>Everyone</at> **Partnership**")
    text = card_text((await teams_bot.connector.wait_for(REPLY))[0].card)
    assert "<at>" not in text
    assert "<\u200bat>Everyone<\u200b/at> \\*\\*Partnership\\*\\*" in text


async def test_the_bot_says_hello_when_added_to_a_team(teams_bot: RunningTeamsBot) -> None:
    await teams_bot.teams.post(fixture("bot_added_to_team.json"))
    call = (await teams_bot.connector.wait_for(REPLY))[0]
    assert call.conversation_id == "19:heads0team0test0id@thread.tacv2"
    assert not call.targeted  # a welcome for everyone in the team
    assert "mention me first" in card_text(call.card)


# --- cards: forms and buttons, with stand-in core handlers -----------------------------------


def submit_data(card: dict[str, Any]) -> dict[str, Any]:
    """The data of the card's first Action.Submit, as Teams would send it back."""
    for element in card["body"]:
        if element.get("type") == "ActionSet":
            data: dict[str, Any] = dict(element["actions"][0]["data"])
            return data
    raise AssertionError("no submit action in the card")


@pytest.mark.usefixtures(stand_ins.__name__)
async def test_a_button_press_updates_its_card_and_answers_privately(
    teams_bot: RunningTeamsBot,
) -> None:
    await teams_bot.teams.say("rsvp", channel=True)
    offer = (await teams_bot.connector.wait_for(REPLY))[0].card
    actions = next(e for e in offer["body"] if e["type"] == "ActionSet")["actions"]
    assert [a["title"] for a in actions] == ["Going", "Log it"]
    assert actions[0]["style"] == "positive"
    await teams_bot.teams.post(teams_bot.teams.card_submit(actions[0]["data"]))
    update = (await teams_bot.connector.wait_for(UPDATE))[0]
    assert update.activity_id == CARD_ID
    assert "1 chose going" in card_text(update.card)
    answer = (await teams_bot.connector.wait_for(REPLY, 2))[1]
    assert answer.targeted
    assert "You chose going" in card_text(answer.card)


@pytest.mark.usefixtures(stand_ins.__name__)
async def test_a_form_card_is_filled_in_and_replaced_by_the_confirmation(
    teams_bot: RunningTeamsBot,
) -> None:
    await teams_bot.teams.post(teams_bot.teams.card_submit(
        {"partnershipBot": "action", "actionId": AskForm.kind, "value": AskForm("7").pack()}))
    form_card = (await teams_bot.connector.wait_for(REPLY))[0]
    assert form_card.targeted
    inputs = {e["label"]: e for e in form_card.card["body"] if e["type"].startswith("Input.")}
    assert inputs["Host school"]["isRequired"] is True
    assert inputs["Date"]["type"] == "Input.Date"
    assert inputs["Who came"]["choices.data"]["dataset"] == "graph.microsoft.com/users"
    data = submit_data(form_card.card)
    # What Teams sends: the submit data with each input's value merged in.
    data.update({inputs["Host school"]["id"]: "Monkfrith", inputs["Date"]["id"]: "2026-03-04",
                 inputs["Who came"]["id"]: "aad-1,aad-2"})
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    update = (await teams_bot.connector.wait_for(UPDATE))[0]
    assert update.activity_id == CARD_ID
    assert ("Saved Monkfrith on 2026-03-04 with aad-1 and aad-2 for Jo Whitfield (7)"
            in card_text(update.card))
    assert len(teams_bot.connector.of(REPLY)) == 1  # the confirmation took the form's place


@pytest.mark.usefixtures(stand_ins.__name__)
async def test_a_form_submitted_without_a_required_field_says_what_to_fix(
    teams_bot: RunningTeamsBot,
) -> None:
    await teams_bot.teams.post(teams_bot.teams.card_submit(
        {"partnershipBot": "action", "actionId": AskForm.kind, "value": AskForm("7").pack()}))
    data = submit_data((await teams_bot.connector.wait_for(REPLY))[0].card)
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    # The form comes back in place, the problem beside its field, to be fixed and sent again.
    again = (await teams_bot.connector.wait_for(UPDATE))[0].card
    assert "Please name the host school." in card_text(again)
    assert elements(again, "Action.Execute")
    assert len(teams_bot.connector.of(REPLY)) == 1  # no separate message about it
    # A card that does not carry its form (posted before it did) gets the problems listed.
    del data["form"]
    await teams_bot.teams.post(teams_bot.teams.card_submit(data))
    answer = (await teams_bot.connector.wait_for(REPLY, 2))[1]
    assert "Host school: Please name the host school." in card_text(answer.card)


async def test_an_out_of_date_button_is_answered_politely(teams_bot: RunningTeamsBot) -> None:
    await teams_bot.teams.post(teams_bot.teams.card_submit(
        {"partnershipBot": "action", "actionId": "no.such.action", "value": "x"}))
    answer = (await teams_bot.connector.wait_for(REPLY))[0]
    assert "out of date" in card_text(answer.card)


async def test_a_refused_targeted_reply_falls_back_to_the_thread(
    teams_bot: RunningTeamsBot,
) -> None:
    teams_bot.connector.fail(REPLY, 400)
    await teams_bot.teams.say("partnership list", channel=True)
    calls = await teams_bot.connector.wait_for(REPLY, 2)
    assert calls[0].targeted and not calls[1].targeted
    assert "no partnerships here yet" in card_text(calls[1].card)


async def test_a_request_that_is_not_an_activity_is_refused(teams_bot: RunningTeamsBot) -> None:
    response = await teams_bot.teams.post({"type": "message"})
    assert response.status == 400
    assert teams_bot.connector.calls == []
