"""Finding a school from what someone typed, and `/partnership schools <words>`.

A typed URN wins. Otherwise the name is taken apart (storage/school_names.py) and compared with
the schools whose own words it shares, read from indexed keys: the same school under another
spelling is found ("Monkfrith Primary School" is Monkfrith), a sister school is never offered
as the same one ("Cunningham Hill Infant is a different school"), and candidates are ranked
with the partnership's own schools first, then the caller's local authority, then the rest."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Caller
from handlers.errors import CommandError
from handlers.names import Match
from handlers.replies import Outcome, Reply, Section
from storage import schools as stored
from storage.models import Partnership, School
from storage.names import name_key, tidy_name
from storage.school_names import Fit, Graded, Profile, SchoolName, analyse, fit

# A URN typed alone, in brackets, or after "URN": "101234", "Monkfrith (101234)", "URN 101234";
# a number of five to eight digits beside a name is taken for one (school names have none).
_URN_ALONE = re.compile(r"^\s*(?:urn\s*:?\s*)?(\d+)\s*$", re.IGNORECASE)
_URN_WITH_NAME = re.compile(r"(?:\burn\s*:?\s*|\(\s*)(\d+)\s*\)?|\b(\d{5,8})\b",
                            re.IGNORECASE)
LIST_LIMIT = 15
OFFER_LIMIT = 3


@dataclass
class SchoolLookup:
    """What a typed school name or URN found."""

    asked: str
    found: School | None = None
    ambiguous: list[School] = field(default_factory=list)
    # Near spellings that may be the same school ("did you mean").
    suggestions: list[School] = field(default_factory=list)
    # Sister schools: the same name with another stage, place or denomination.
    different: list[School] = field(default_factory=list)
    # The partnerships each listed school is in, for telling them apart.
    partnerships: dict[int, list[Partnership]] = field(default_factory=dict)


@dataclass(frozen=True)
class Ranking:
    """What ranks candidates: the partnership's own schools, then the caller's authority."""

    own: frozenset[int] = frozenset()
    authorities: frozenset[str] = frozenset()

    def key(self, school: School, graded: Graded) -> tuple[float, ...]:
        return (graded.fit, -float(school.id in self.own),
                -float((school.authority or "") in self.authorities),
                -graded.score, -graded.similarity, float(school.closed))


def split_urn(text: str) -> tuple[str, str | None]:
    """The name typed and the URN typed with it, if any (as typed: checked later)."""
    alone = _URN_ALONE.match(text)
    if alone:
        return "", alone[1]
    found = _URN_WITH_NAME.search(text)
    if found:
        urn = found[1] or found[2]
        name = tidy_name(text[: found.start()] + " " + text[found.end():])
        return name.strip(" ,-"), urn
    return text, None


async def look_up_school(session: AsyncSession, caller: Caller, text: str,
                         partnership: Partnership | None = None) -> SchoolLookup:
    """The school `text` names (a name, a URN, or both). Raises with a polite reply when a URN
    is malformed or not in the register."""
    name, urn_text = split_urn(text)
    if urn_text is not None:
        return await _by_urn(session, caller, text, name, urn_text)
    lookup = SchoolLookup(asked=text)
    exact = await stored.by_name_key(session, caller.workspace, name_key(text))
    if len(exact) == 1:
        lookup.found = exact[0]
        return lookup
    query = analyse(text)
    graded: dict[int, tuple[School, Graded]] = {}
    if exact:
        for school in exact:
            if school.id is not None:
                graded[school.id] = (school, Graded(Fit.SAME, 10.0))
    else:
        _grade(query, await stored.by_core(session, caller.workspace, query.core), graded)
    if not any(g.fit <= Fit.STARTS for _, g in graded.values()):
        _grade(query, await stored.near(session, caller.workspace, query.core), graded)
    if not graded:
        return lookup
    fitting = [s for s, g in graded.values() if g.fit <= Fit.STARTS]
    if len(fitting) == 1 and not exact:  # one school fits: nothing to rank
        lookup.found = fitting[0]
        return lookup
    ranking = await _ranking(session, caller, partnership)
    ranked = sorted(graded.values(), key=lambda pair: ranking.key(*pair))
    _resolve(lookup, ranked, ranking)
    shown = [s.id for s in (lookup.ambiguous + lookup.suggestions + lookup.different) if s.id]
    lookup.partnerships = await stored.partnerships_of(session, shown)
    return lookup


def _grade(query: SchoolName, schools: Sequence[School],
           graded: dict[int, tuple[School, Graded]]) -> None:
    for school in schools:
        if school.id is None or school.id in graded:
            continue
        result = fit(query, profile(school))
        if result is not None:
            graded[school.id] = (school, result)


def profile(school: School) -> Profile:
    return Profile.of(school.name, school.postcode, school.town, school.authority,
                      school.gender)


async def _ranking(session: AsyncSession, caller: Caller,
                   partnership: Partnership | None) -> Ranking:
    own: set[int] = set()
    if partnership is not None and partnership.id is not None:
        own = await stored.school_ids_of(session, partnership.id)
    authorities = await stored.authorities_near(
        session, caller.workspace, caller.platform, caller.user_id,
        partnership.id if partnership is not None else None)
    return Ranking(frozenset(own), frozenset(authorities))


# A school is taken without asking only when it fits this much better than the next.
CLEAR_MARGIN = 1.0
CLOSED_PENALTY = 1.5


def _resolve(lookup: SchoolLookup, ranked: list[tuple[School, Graded]],
             ranking: Ranking) -> None:
    best_fit = ranked[0][1].fit
    if best_fit <= Fit.STARTS:
        fitting = [(s, g) for s, g in ranked if g.fit == best_fit]
        if len(fitting) == 1:
            lookup.found = fitting[0][0]
            return
        own = [s for s, _ in fitting if s.id in ranking.own]
        if len(own) == 1:
            lookup.found = own[0]
            return
        scores = sorted(((g.score - CLOSED_PENALTY * s.closed, s) for s, g in fitting),
                        key=lambda pair: -pair[0])
        if scores[0][0] - scores[1][0] >= CLEAR_MARGIN:
            lookup.found = scores[0][1]
            return
        lookup.ambiguous = [s for s, _ in fitting]
        return
    lookup.suggestions = [s for s, g in ranked if g.fit == Fit.SIMILAR][:OFFER_LIMIT]
    lookup.different = [s for s, g in ranked if g.fit == Fit.DIFFERENT][:OFFER_LIMIT]


async def _by_urn(session: AsyncSession, caller: Caller, text: str, name: str,
                  urn_text: str) -> SchoolLookup:
    if len(urn_text) != 6:
        raise CommandError.because(
            f"“{urn_text}” is not a URN: a URN (the DfE's Unique Reference Number) has six "
            f"digits, and this has {len(urn_text)}.",
            "Check it on the school's page of Get Information About Schools, or give the "
            "school's name instead." + await _names_near(session, caller, name, None))
    urn = int(urn_text)
    school = await stored.by_urn(session, caller.workspace, urn)
    if school is not None:
        return SchoolLookup(asked=text, found=school)
    if not await stored.register_loaded(session, caller.workspace):
        where = ("The DfE register has not been loaded here, so I can't check URNs "
                 "(an admin loads it with `partnership-bot schools import-gias`).")
    else:
        where = "No school with that URN is in the DfE register loaded here."
    raise CommandError.because(
        f"I don't know the URN {urn_text}. {where}",
        "Give the school's name instead, or check the URN."
        + await _names_near(session, caller, name, urn))


async def _names_near(session: AsyncSession, caller: Caller, name: str,
                      urn: int | None) -> str:
    """" The nearest: …" for a bad URN: schools by the name typed with it, else by URN."""
    near: list[School] = []
    if name:
        lookup = await look_up_school(session, caller, name)
        near = ([lookup.found] if lookup.found else
                lookup.ambiguous[:OFFER_LIMIT] or lookup.suggestions or lookup.different)
    if not near and urn is not None:
        near = await stored.near_urns(session, caller.workspace, urn)
    if not near:
        return ""
    return " The nearest: " + "; ".join(describe(s) for s in near) + "."


def describe(school: School, partnerships: Sequence[Partnership] = (),
             quoted: bool = False) -> str:
    """"St Mary's CE Primary School (Barnet, primary, URN 101234, closed; in Partnership 5)"."""
    details = [x for x in (school.town or school.authority, _phase(school)) if x]
    if school.urn is not None:
        details.append(f"URN {school.urn}")
    if school.closed:
        details.append("closed")
    said = ", ".join(details)
    if partnerships:
        said += ("; " if said else "") + "in " + "; ".join(p.name for p in partnerships)
    name = f"“{school.name}”" if quoted else school.name
    return name + (f" ({said})" if said else "")


def _phase(school: School) -> str | None:
    if not school.phase or school.phase.lower() in ("not applicable", ""):
        return None
    return school.phase.lower()


def closed_note(school: School) -> str | None:
    """What to say when someone acts for a closed school (kept for its history)."""
    if not school.closed:
        return None
    return (f"Note: the DfE register lists {school.name} as closed. It is kept for its "
            "history; if the school reopened under a new URN (say, as an academy), join for "
            "that one.")


def ambiguity_error(lookup: SchoolLookup, caller: Caller, retry: str) -> CommandError:
    """"“St Mary's” could be 3 schools: …" with how to say which. `retry` is the command with
    {school} where the school goes."""
    listed = [describe(s, lookup.partnerships.get(s.id or 0, ())) for s in
              lookup.ambiguous[:10]]
    more = len(lookup.ambiguous) - len(listed)
    first = lookup.ambiguous[0]
    example = f"{first.name} {first.urn}" if first.urn else first.name
    return CommandError.because(
        f"“{lookup.asked}” could be {len(lookup.ambiguous)} schools: " + "; ".join(listed)
        + (f"; and {more} more." if more > 0 else "."),
        "Give more of the name, or its URN, for example "
        + caller.cmd(retry.format(school=example)) + ".")


def different_note(lookup: SchoolLookup) -> str | None:
    """"Cunningham Hill Infant is a different school" for the sisters found."""
    if not lookup.different:
        return None
    names = [s.name for s in lookup.different]
    if len(names) == 1:
        return f"{names[0]} is a different school"
    return f"{', '.join(names[:-1])} and {names[-1]} are different schools"


def pick_among(text: str, schools: Sequence[School]) -> Match[School]:
    """Which of a few known schools (a partnership's) `text` means, by name or URN, with the
    same rules as a lookup: a sister school is never taken for the one asked."""
    name, urn_text = split_urn(text)
    if urn_text is not None:
        by_urn = [s for s in schools if s.urn is not None and str(s.urn) == urn_text]
        if by_urn:
            return Match(found=by_urn[0])
        if not name:
            return Match(found=None)
        text = name
    key = name_key(text)
    exact = [s for s in schools if s.name_key == key]
    if len(exact) == 1:
        return Match(found=exact[0])
    graded: dict[int, tuple[School, Graded]] = {}
    _grade(analyse(text), exact or schools, graded)
    if not graded:
        return Match(found=None)
    ranking = Ranking()
    ranked = sorted(graded.values(), key=lambda pair: ranking.key(*pair))
    lookup = SchoolLookup(asked=text)
    _resolve(lookup, ranked, ranking)
    return Match(found=lookup.found, ambiguous=lookup.ambiguous,
                 suggestions=lookup.suggestions)


async def school_to_join(session: AsyncSession, caller: Caller, partnership: Partnership,
                         typed: str, new_school: bool) -> tuple[School, list[str]]:
    """The school someone joins `partnership` for: found (under any spelling, or by URN), or
    created when it is new. Never a sister school, never a duplicate from a typo."""
    lookup = await look_up_school(session, caller, typed, partnership)
    join = f"partnership join {partnership.name} school: {{school}}"
    if lookup.ambiguous:
        raise ambiguity_error(lookup, caller, join)
    if lookup.found is not None:
        note = closed_note(lookup.found)
        return lookup.found, [note] if note else []
    name, _ = split_urn(typed)
    if not name_key(name):
        raise CommandError.because("A school's name needs some letters or numbers.")
    different = different_note(lookup)
    if lookup.suggestions and not new_school:
        names = [s.name for s in lookup.suggestions]
        quoted = ", ".join(describe(s, lookup.partnerships.get(s.id or 0, ()), quoted=True)
                           for s in lookup.suggestions)
        add = caller.cmd(join.format(school=name) + " new: yes")
        raise CommandError.because(
            f"I don't know a school called “{name}”. Did you mean {quoted}?"
            + (f" ({different}.)" if different else ""),
            f"To join for {names[0]}: {caller.cmd(join.format(school=names[0]))}. "
            f"To add “{name}” as a new school: {add}.")
    if lookup.different and not new_school and not _sisters_only(name, lookup.different):
        add = caller.cmd(join.format(school=name) + " new: yes")
        raise CommandError.because(
            f"I don't know a school called “{name}”.",
            f"{different}; to add {name} as new: {add}.")
    school = School(workspace=caller.workspace, name=name, name_key=name_key(name))
    session.add(school)
    await session.flush()
    notes = [f"Added the new school {school.name}"
             + (f" ({different}, kept apart)." if different else ".")]
    return school, notes


def _sisters_only(name: str, sisters: Sequence[School]) -> bool:
    """Whether every near name is a sister with exactly the same own words ("Cunningham Hill
    Infant" for "Cunningham Hill Junior"): then the name typed is no typo, and a new school
    needs no `new: yes`."""
    core = analyse(name).core_text
    return all(s.match_key == core for s in sisters)


def info_lines(schools: Sequence[School]) -> list[str]:
    """A partnership's schools for `/partnership info`: designation, phase and URN where known,
    and the local authority where it is not the partnership's usual one."""
    authorities = Counter(s.authority for s in schools if s.authority)
    ranked = authorities.most_common(2)
    usual = ranked[0][0] if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]) else None
    lines = []
    for school in schools:
        extras = [x for x in (school.designation, _phase(school)) if x]
        if school.urn is not None:
            extras.append(f"URN {school.urn}")
        if school.authority and school.authority != usual:
            extras.append(school.authority)
        if school.closed:
            extras.append("closed")
        lines.append(school.name + (f" ({', '.join(extras)})" if extras else ""))
    return lines


# --- /partnership schools <words> -----------------------------------------------------------


@dataclass(frozen=True)
class SchoolsRequest:
    words: str


def parse_schools(rest: str, caller: Caller) -> SchoolsRequest:
    return SchoolsRequest(tidy_name(rest))


async def run_schools(request: SchoolsRequest, caller: Caller,
                      session: AsyncSession) -> Outcome:
    if not request.words:
        return Outcome(Reply(
            title="Which school? Give some words of its name, or its URN.",
            sections=[Section(lines=[f"For example {caller.cmd('partnership schools Monkfrith')}"
                                     f" or {caller.cmd('partnership schools 101234')}."])]))
    matches, others = await find_schools(session, caller, request.words)
    partnerships = await stored.partnerships_of(
        session, [s.id for s in [*matches, *others.suggestions] if s.id is not None])
    if not matches:
        near = [describe(s, partnerships.get(s.id or 0, ())) for s in others.suggestions]
        lines = [f"Did you mean: {'; '.join(near)}?"] if near else []
        different = different_note(others)
        if different:
            lines.append(f"{different}.")
        return Outcome(Reply(title=f"No school matches “{request.words}”.",
                             sections=[Section(lines=lines or [
                                 "Try fewer words, or the school's URN."])]))
    shown = matches[:LIST_LIMIT]
    lines = [_listing_line(s, partnerships.get(s.id or 0, [])) for s in shown]
    if len(matches) > len(shown):
        lines.append(f"…and {len(matches) - len(shown)} more: add words to narrow the list.")
    count = len(matches)
    return Outcome(Reply(
        title=f"{count} school{'s' if count != 1 else ''} matching “{request.words}”",
        sections=[Section(lines=lines)]))


def _listing_line(school: School, partnerships: Sequence[Partnership]) -> str:
    where = "; ".join(p.name for p in partnerships) or "no partnership yet"
    return f"{describe(school)}: in {where}"


async def find_schools(session: AsyncSession, caller: Caller,
                       words: str) -> tuple[list[School], SchoolLookup]:
    """Every school the words fit (ranked), and the near spellings and sisters."""
    name, urn_text = split_urn(words)
    if urn_text is not None and not name:
        lookup = await look_up_school(session, caller, words)
        return ([lookup.found] if lookup.found else []), SchoolLookup(asked=words)
    query = analyse(name)
    graded: dict[int, tuple[School, Graded]] = {}
    for school in await stored.by_name_key(session, caller.workspace, name_key(name)):
        if school.id is not None:
            graded[school.id] = (school, Graded(Fit.SAME, 10.0))
    _grade(query, await stored.by_core(session, caller.workspace, query.core), graded)
    _grade(query, await stored.near(session, caller.workspace, query.core), graded)
    ranking = await _ranking(session, caller, None)
    ranked = sorted(graded.values(), key=lambda pair: ranking.key(*pair))
    matches = [s for s, g in ranked if g.fit <= Fit.STARTS]
    others = SchoolLookup(asked=words)
    near = [(s, g) for s, g in ranked if g.fit > Fit.STARTS]
    if near:
        _resolve(others, near, ranking)
    return matches, others
