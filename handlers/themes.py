"""A partnership's CPD themes: the defaults, `/partnership themes`, and loose theme matching.

Every partnership starts with the six themes one real partnership chose for a year. A lead may
replace the list; themes taken off it are retired, so sessions logged under them keep them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.lookup import find_partnership, require_lead, require_member
from handlers.names import Match, match_name
from handlers.parsing import ParseError
from handlers.replies import Outcome, Reply, Section, Tone
from storage import learning
from storage.models import CpdTheme, Partnership
from storage.names import name_key, tidy_name

DEFAULT_THEMES = (
    "Subject leadership: curriculum and progression in foundation subjects",
    "SENCO leadership: impact of interventions",
    "Teaching assistant development and training",
    "Middle leadership",
    "Learning walks and monitoring",
    "Learning and play at lunchtimes",
)
MAX_THEMES = 20
# A theme is a select option's value in a Slack modal: at most 150 characters.
MAX_THEME_NAME = 150
EXAMPLE_THEMES = "Early reading; Maths mastery; SENCO leadership"


async def themes_of(session: AsyncSession, partnership: Partnership,
                    include_retired: bool = False) -> list[CpdTheme]:
    """The partnership's themes in order, seeded with the defaults the first time they are
    needed (so imported and new partnerships alike start with them)."""
    assert partnership.id is not None
    themes = list(await learning.cpd_themes(session, partnership.id))
    if not themes:
        themes = [CpdTheme(partnership_id=partnership.id, name=name, name_key=name_key(name),
                           position=n) for n, name in enumerate(DEFAULT_THEMES)]
        session.add_all(themes)
        await session.flush()
    return themes if include_retired else [t for t in themes if not t.retired]


# --- matching -------------------------------------------------------------------------------

# Abbreviations heads use for the people a theme is about.
_ABBREVIATIONS = {
    "ta": "teaching assistant", "tas": "teaching assistants", "sen": "senco",
    "send": "senco", "sendco": "senco", "slt": "senior leadership",
}
_STOPWORDS = {"and", "the", "of", "in", "at", "for", "a", "an", "on", "to", "with", "cpd"}


def match_theme(query: str, themes: Sequence[CpdTheme]) -> Match[CpdTheme]:
    """The theme `query` means: by name ("Middle leadership"), by a start ("SENCO"), or by
    most of its words, abbreviations and word endings forgiven ("TA training", "lunchtime")."""
    by_name = match_name(query, themes, lambda t: t.name)
    if by_name.found is not None or by_name.ambiguous:
        return by_name
    words = _words(query)
    if not words:
        return by_name
    scored = [(sum(any(_same_word(q, w) for w in _words(t.name)) for q in words) / len(words), t)
              for t in themes]
    best = max((score for score, _ in scored), default=0.0)
    # Short queries must match wholly: "governance training" is not "TA training".
    needed = 1.0 if len(words) <= 2 else 2 / 3
    if best < needed:
        return by_name  # nothing close: its suggestions, if any, come from spelling
    top = [t for score, t in scored if score == best]
    return Match(found=top[0]) if len(top) == 1 else Match(found=None, ambiguous=top)


def _words(text: str) -> list[str]:
    expanded = " ".join(_ABBREVIATIONS.get(w, w) for w in name_key(text).split())
    return [w for w in expanded.split() if w not in _STOPWORDS]


def _same_word(a: str, b: str) -> bool:
    """"leaders" is "leadership", "lunch" is "lunchtimes", "walk" is "walks"."""
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 4 and longer.startswith(shorter):
        return True
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= 6


def theme_problem(query: str, result: Match[CpdTheme], themes: Sequence[CpdTheme],
                  partnership: Partnership, caller: Caller) -> tuple[str, str]:
    """Why `query` names no single theme, and what to write instead."""
    if result.ambiguous:
        names = [t.name for t in result.ambiguous]
        return (f"“{query}” could be more than one theme: " + "; ".join(f"“{n}”" for n in names)
                + ".", f"Write more of the one you mean, for example `theme: {names[0]}`.")
    listed = "; ".join(t.name for t in themes)
    if result.suggestions:
        return (f"“{query}” is not one of {partnership.name}'s CPD themes. "
                f"Did you mean “{result.suggestions[0].name}”?",
                f"Its themes are: {listed}.")
    return (f"“{query}” is not one of {partnership.name}'s CPD themes.",
            f"Its themes are: {listed}. A lead can change them with "
            + caller.cmd(f"partnership themes {partnership.name} set: {EXAMPLE_THEMES}") + ".")


# --- /partnership themes --------------------------------------------------------------------


@dataclass(frozen=True)
class ThemesRequest:
    partnership: str
    # None: show them; otherwise the new list, in order.
    new_themes: tuple[str, ...] | None = None


_THEME_SEPARATORS = re.compile(r"\s*[;\n]\s*")


def parse_theme_list(text: str, caller: Caller, partnership: str) -> tuple[str, ...]:
    example = caller.cmd(f"partnership themes {partnership or 'East Barnet Area'} "
                         f"set: {EXAMPLE_THEMES}")
    names = [tidy_name(n) for n in _THEME_SEPARATORS.split(text) if tidy_name(n)]
    if not names:
        raise ParseError("Please list the themes after `set:`, separated by semicolons.",
                         f"For example {example}")
    if len(names) > MAX_THEMES:
        raise ParseError(f"That is {len(names)} themes; a partnership can have up to "
                         f"{MAX_THEMES}.", "Merge some of them, then try again.")
    seen: dict[str, str] = {}
    for name in names:
        if len(name) > MAX_THEME_NAME:
            raise ParseError(f"The theme “{name[:40]}…” is {len(name)} characters long; the "
                             f"most is {MAX_THEME_NAME}.", "Please shorten it.")
        key = name_key(name)
        if not key:
            raise ParseError(f"“{name}” is not a theme: it needs some letters or numbers.",
                             f"For example {example}")
        if key in seen:
            raise ParseError(f"“{name}” is in the list twice.",
                             "Give each theme once, separated by semicolons.")
        seen[key] = name
    return tuple(names)


async def run_themes(request: ThemesRequest, caller: Caller, session: AsyncSession) -> Outcome:
    partnership = await find_partnership(session, caller, request.partnership,
                                         example="partnership themes {name}")
    if request.new_themes is None:
        await require_member(session, caller, partnership)
        return Outcome(_themes_reply(partnership, await themes_of(session, partnership), caller))
    await require_lead(session, caller, partnership, "change its CPD themes")
    return Outcome(await _replace_themes(session, partnership, request.new_themes, caller))


def _themes_reply(partnership: Partnership, themes: Sequence[CpdTheme], caller: Caller) -> Reply:
    return Reply(
        title=f"{partnership.name}'s CPD themes",
        sections=[
            Section(lines=[f"{n}. {t.name}" for n, t in enumerate(themes, start=1)]),
            Section(lines=[
                f"Log a session with {caller.cmd(f'cpd log {partnership.name} theme: ...')}; "
                "a theme can be given loosely (“SENCO”, “TA training”).",
                "A lead can change them with " + caller.cmd(
                    f"partnership themes {partnership.name} set: {EXAMPLE_THEMES}") + ".",
            ]),
        ],
    )


async def _replace_themes(session: AsyncSession, partnership: Partnership,
                          names: Sequence[str], caller: Caller) -> Reply:
    existing = {t.name_key: t for t in await themes_of(session, partnership,
                                                       include_retired=True)}
    was_active = {key for key, t in existing.items() if not t.retired}
    assert partnership.id is not None
    added: list[str] = []
    for position, name in enumerate(names):
        key = name_key(name)
        theme = existing.get(key)
        if theme is None:
            theme = CpdTheme(partnership_id=partnership.id, name=name, name_key=key)
            added.append(name)
        elif theme.retired:
            added.append(name)
        theme.name, theme.position, theme.retired = name, position, False
        session.add(theme)
    kept = {name_key(n) for n in names}
    retired = []
    for key in sorted(was_active - kept, key=lambda k: existing[k].position):
        existing[key].retired = True
        session.add(existing[key])
        retired.append(existing[key].name)
    await session.flush()
    lines = [f"{n}. {name}" for n, name in enumerate(names, start=1)]
    notes = []
    if added:
        notes.append("New: " + "; ".join(added) + ".")
    if retired:
        notes.append("No longer themes: " + "; ".join(retired)
                     + ". Sessions already logged under them keep them.")
    if not added and not retired:
        notes.append("The same themes as before (order and spelling updated).")
    return Reply(title=f"{partnership.name} now has {len(names)} CPD "
                       f"theme{'s' if len(names) != 1 else ''}.",
                 sections=[Section(lines=lines), Section(lines=notes)], tone=Tone.SUCCESS)
