"""The bot's public pages: what it is (/about), its privacy notice (/privacy) and its terms of
use (/terms), linked from the Teams app package (and fit for Slack's app directory too).

Plain HTML from a tiny handler, no templates yet: short, in plain English, and true to what
the bot stores (README, "What is stored, and why"; tests/test_legal_pages.py keeps them
together). The bot is run by whoever installs it, so the pages speak of "the organisation that
runs this bot" rather than naming one."""

from __future__ import annotations

from aiohttp import web

ABOUT_PATH = "/about"
PRIVACY_PATH = "/privacy"
TERMS_PATH = "/terms"

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
          "line-height:1.5;color:#1b1b1b}h1{color:#2c4a6e}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}")
_NAV = (f'<p><a href="{ABOUT_PATH}">About</a> · <a href="{PRIVACY_PATH}">Privacy</a> · '
        f'<a href="{TERMS_PATH}">Terms of use</a></p>')

ABOUT = """<h1>Partnership Bot</h1>
<p>Partnership Bot lets groups of schools run a school improvement partnership from Slack or
Microsoft Teams: create and join partnerships on behalf of your school, log learning walks and
CPD, schedule meetings with reminders, and get a weekly digest in the partnership's channel.</p>
<p>Type <strong>help</strong> in a chat with the bot (in a Teams channel, mention it first) to
see everything it can do.</p>"""

PRIVACY = """<h1>Privacy notice</h1>
<p>Partnership Bot is run by the organisation that installed it in your Slack workspace or
Microsoft Teams organisation (for example your trust, local authority or partnership). That
organisation decides how it is used and is responsible for the information below; ask them if
you have a question or a complaint.</p>

<h2>What the bot keeps, and why</h2>
<table>
<tr><th>What</th><th>Why</th><th>For how long</th></tr>
<tr><td>Partnerships, schools and their designations</td><td>The partnerships
themselves</td><td>Until deleted</td></tr>
<tr><td>Members: your chat account id, display name, school, job title, and whether you lead
a partnership</td><td>Who may log, see and do what</td><td>Until you leave, or ask the bot to
forget you</td></tr>
<tr><td>Linked channels</td><td>Where reminders and the weekly digest go</td><td>Until
unlinked</td></tr>
<tr><td>Personal chats: in Teams, the address of your personal chat with the bot</td><td>Sending
you private reminders about your actions</td><td>Until you ask the bot to forget you</td></tr>
<tr><td>Learning walks: date, host school, focus, year groups, walkers, and notes (strengths,
areas for development, next steps, who owns them and by when)</td><td>The partnership's peer
challenge and follow-up</td><td>Notes: the partnership's retention period (2 years unless a
lead changes it), then they are removed; the date, school and focus stay for the
counts</td></tr>
<tr><td>Actions (a walk's next steps among them): what is to be done, its owner, due date and
state, who raised and closed it; whether you turned the reminders about your actions
off</td><td>Follow-up, and reminding owners before a date</td><td>Until the walk or partnership
is deleted; when you ask to be forgotten your name is removed and the partnership's leads are
told which open actions lost their owner</td></tr>
<tr><td>CPD sessions: title, theme, date, hours, host, facilitator, attendance as given (a
head count, the schools, the people who came), impact</td><td>CPD records and
coverage</td><td>Until deleted</td></tr>
<tr><td>Meetings, agenda items, who replied going, maybe or not (with an apology's reason
if you gave one), and minutes with who wrote and approved them</td><td>Meetings, reminders and
the record of what was agreed</td><td>Until deleted; when you ask to be forgotten you are
removed from the replies and as writer or approver of minutes</td></tr>
<tr><td>Weekly digest settings, and reminders and digests waiting to be posted</td><td>Posting
them on time, once</td><td>Until sent, and a record that they were</td></tr>
<tr><td>The bot's own access to your Slack workspace (its token, encrypted where the
organisation has set a key)</td><td>Posting in the workspace</td><td>Until the bot is removed
from it</td></tr>
<tr><td>Ids of recent requests</td><td>Never doing the same request twice</td><td>One
day</td></tr>
<tr><td>Private links to the web pages and to files, and browsers signed in through them
(only a fingerprint of each link, whose it is and when; a file's content)</td><td>Showing you
your partnerships' pages and files</td><td>15 minutes for a link, 8 hours for a browser, 1 hour
to 7 days for a file; at once when you sign out or ask to be forgotten</td></tr>
</table>

<h2>What it does not do</h2>
<ul>
<li>It reads only what you send to it (commands, forms and buttons), with one exception: when
a reminder or digest must be tried a second time in Slack, it looks through that channel's
recent messages for its own earlier post (by a label the bot put on it), so as not to post it
twice. It keeps nothing from them.</li>
<li>Walk notes are about teaching across classes, never a judgement of a named teacher. They
are shown only to the partnership's members: never posted in a channel, never written to the
bot's logs.</li>
<li>It does not sell or share what it keeps, show adverts, or track you. These pages set no
cookies.</li>
<li>Each Slack workspace or Teams organisation's information is kept apart from every
other's.</li>
</ul>

<h2>Your rights</h2>
<p>Type <strong>partnership mydata</strong> to see everything the bot holds about you, and
<strong>partnership forget me</strong> to have it erased: you leave your partnerships, and
the records you appear in keep their counts but lose your name and account. For anything else
(a correction, an objection), ask the organisation that runs the bot; in the UK you may also
complain to the Information Commissioner's Office.</p>"""

TERMS = """<h1>Terms of use</h1>
<p>Partnership Bot is provided by the organisation that installed it, for the work of school
improvement partnerships. By using it you agree to these terms.</p>
<ul>
<li>Use it for your partnership's work: its members, walks, CPD and meetings.</li>
<li>Keep what you write professional. Walk notes record what was seen across classes: never
judgements of named teachers, and never pupils' names or other personal details about
pupils.</li>
<li>Share what the bot shows you only as your school and partnership allow.</li>
<li>The organisation that runs the bot may remove content or access that breaks these
terms.</li>
<li>The bot is provided as it is, without any warranty. Keep your own records of anything you
are required to keep; exports are available at any time with <strong>partnership
mydata</strong>.</li>
</ul>
<p>How the bot handles information is set out in its <a href="/privacy">privacy
notice</a>.</p>"""


def page(title: str, body: str) -> str:
    return ("<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{title} · Partnership Bot</title><style>{_STYLE}</style></head>"
            f"<body>{_NAV}\n{body}\n</body></html>\n")


PAGES = {
    ABOUT_PATH: page("About", ABOUT),
    PRIVACY_PATH: page("Privacy notice", PRIVACY),
    TERMS_PATH: page("Terms of use", TERMS),
}


async def serve_page(request: web.Request) -> web.Response:
    return web.Response(text=PAGES[request.path], content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=3600"})


def add_pages(app: web.Application) -> None:
    for path in PAGES:
        app.router.add_get(path, serve_page)
