"""Load a whole authority's partnerships from YAML (the format of shared/data/partnerships.yaml).

Idempotent: a partnership is found by its name key and a school by its URN or, under any
spelling, by its name and authority (storage/school_names.py), so importing twice changes
nothing, and "Grasvenor Infant" and "Grasvenor Infant School" are one school.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import queries
from storage.db import Database
from storage.models import Partnership, PartnershipKind, PartnershipSchool, School
from storage.names import name_key, tidy_name
from storage.school_index import SchoolIndex

MAX_SHORT_NAME = 40

KINDS = {
    "loose": (PartnershipKind.LOOSE, False),
    "structured": (PartnershipKind.STRUCTURED, False),
    "hard": (PartnershipKind.HARD, False),
    "teaching school alliance": (PartnershipKind.ALLIANCE, False),
    "alliance": (PartnershipKind.ALLIANCE, False),
    "proposed hard": (PartnershipKind.HARD, True),
}

# "Northumberland Park (Haringey)": a school outside the authority, its borough in brackets.
_BOROUGH = re.compile(r"^(?P<name>.+?)\s*\((?P<authority>[^)]+)\)\s*$")


class ImportError_(Exception):
    """The file is not in the expected shape; the message says where."""


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        updated = f", {self.updated} updated" if self.updated else ""
        return f"{self.created} created{updated}, {self.unchanged} unchanged"


@dataclass
class ImportReport:
    partnerships: Tally = field(default_factory=Tally)
    schools: Tally = field(default_factory=Tally)
    memberships: Tally = field(default_factory=Tally)
    # Names that fitted several stored schools equally (a person may merge them).
    ambiguous: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"partnerships: {self.partnerships}",
            f"schools:      {self.schools}",
            f"memberships:  {self.memberships}",
        ]
        lines += [f"note: {line}" for line in self.ambiguous]
        return lines


@dataclass(frozen=True)
class SchoolEntry:
    name: str
    designation: str | None = None
    phase: str | None = None
    authority: str | None = None
    urn: int | None = None


@dataclass(frozen=True)
class PartnershipEntry:
    name: str
    kind: PartnershipKind
    proposed: bool
    note: str | None
    schools: tuple[SchoolEntry, ...]
    short_name: str | None = None


def read_file(path: Path) -> list[PartnershipEntry]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ImportError_(f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("authorities"), list):
        raise ImportError_(f"{path} should have a top-level `authorities:` list.")
    entries: list[PartnershipEntry] = []
    for authority in data["authorities"]:
        name = tidy_name(str(authority.get("name") or "")) or None
        where = f"authority {name or '?'!r}"
        # The authority's own partnerships are of its schools; other partnerships (alliances)
        # reach across boroughs, so their schools' authority is left unknown unless given.
        for key, local in (("partnerships", name), ("other_partnerships", None)):
            for item in authority.get(key) or []:
                entries.append(_partnership(item, where, local))
    return entries


def _partnership(item: Any, where: str, authority: str | None) -> PartnershipEntry:
    if not isinstance(item, dict) or not str(item.get("name") or "").strip():
        raise ImportError_(f"A partnership in {where} has no name.")
    name = tidy_name(str(item["name"]))
    kind_text = " ".join(str(item.get("type") or "loose").lower().split())
    if kind_text not in KINDS:
        raise ImportError_(
            f"Partnership {name!r} has type {kind_text!r}; use one of {', '.join(KINDS)}."
        )
    kind, proposed = KINDS[kind_text]
    raw_schools: Iterable[Any] = item.get("schools") or item.get("members") or []
    schools = tuple(entry for s in raw_schools for entry in _schools(s, name, authority))
    note = item.get("note")
    short = tidy_name(str(item.get("short_name") or "")) or None
    if short is not None and (len(short) > MAX_SHORT_NAME or not name_key(short)):
        raise ImportError_(f"Partnership {name!r} has short_name {short!r}; give up to "
                           f"{MAX_SHORT_NAME} letters or digits.")
    return PartnershipEntry(name, kind, proposed, str(note) if note else None, schools, short)


def _schools(item: Any, partnership: str, authority: str | None) -> list[SchoolEntry]:
    """One entry, or several where the letter wrote two schools as one
    ("London Academy/Deansbrook Juniors")."""
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict) or not str(item.get("name") or "").strip():
        raise ImportError_(f"A school in {partnership!r} has no name.")
    urn = _urn(item.get("urn"), partnership)
    names = [tidy_name(n) for n in str(item["name"]).split("/") if tidy_name(n)]
    if urn is not None and len(names) > 1:
        raise ImportError_(f"{item['name']!r} in {partnership!r} names {len(names)} schools "
                           "but has one urn; list them one by one.")
    entries = []
    for name in names:
        own_authority = item.get("authority")
        borough = _BOROUGH.match(name)
        if borough and own_authority is None:
            name, own_authority = borough["name"], borough["authority"]
        entries.append(SchoolEntry(
            name=name,
            designation=item.get("designation"),
            phase=item.get("phase"),
            authority=own_authority or authority,
            urn=urn,
        ))
    return entries


def _urn(value: Any, partnership: str) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not (text.isdigit() and len(text) == 6):
        raise ImportError_(f"A school in {partnership!r} has urn {value!r}; a URN has six "
                           "digits.")
    return int(text)


async def import_file(db: Database, path: Path, workspace: str) -> ImportReport:
    """Import everything in one transaction: a bad file leaves the database as it was."""
    entries = read_file(path)
    report = ImportReport()
    async with db.session() as session:
        index = await SchoolIndex.load(session, workspace)
        seen: set[int] = set()
        for entry in entries:
            partnership = await _ensure_partnership(session, workspace, entry, report)
            assert partnership.id is not None
            for school_entry in entry.schools:
                school = await _ensure_school(session, workspace, school_entry, index, seen,
                                              report)
                assert school.id is not None
                if await queries.school_link(session, partnership.id, school.id) is None:
                    session.add(PartnershipSchool(partnership_id=partnership.id,
                                                  school_id=school.id))
                    await session.flush()
                    report.memberships.created += 1
                else:
                    report.memberships.unchanged += 1
    return report


async def _ensure_partnership(
    session: AsyncSession, workspace: str, entry: PartnershipEntry, report: ImportReport
) -> Partnership:
    key = name_key(entry.name)
    existing = await queries.partnership_by_key(session, workspace, key)
    if existing is not None:
        if entry.short_name and not existing.short_name:
            existing.short_name, existing.short_key = entry.short_name, name_key(entry.short_name)
            session.add(existing)
            report.partnerships.updated += 1
        else:
            report.partnerships.unchanged += 1
        return existing
    partnership = Partnership(workspace=workspace, name=entry.name, name_key=key,
                              kind=entry.kind.value, proposed=entry.proposed, note=entry.note,
                              short_name=entry.short_name,
                              short_key=name_key(entry.short_name) if entry.short_name else None,
                              created_by="import")
    session.add(partnership)
    await session.flush()
    report.partnerships.created += 1
    return partnership


async def _ensure_school(
    session: AsyncSession,
    workspace: str,
    entry: SchoolEntry,
    index: SchoolIndex,
    seen: set[int],
    report: ImportReport,
) -> School:
    """The school for `entry`: the stored one it is (by URN, or by name and authority under any
    spelling), or a new one; each school is counted once however often and however named."""
    school = index.by_urn.get(entry.urn) if entry.urn is not None else None
    if school is None:
        same = index.same_as(entry.name, authority=entry.authority, urn=entry.urn)
        school = same[0] if same else None
        if len(same) > 1:
            report.ambiguous.append(f"{entry.name!r} could be any of "
                                    + ", ".join(repr(s.name) for s in same)
                                    + f"; it was taken as {same[0].name!r}")
    if school is None:
        school = School(workspace=workspace, name=entry.name, name_key=name_key(entry.name),
                        designation=entry.designation, phase=entry.phase,
                        authority=entry.authority, urn=entry.urn)
        session.add(school)
        await session.flush()
        index.add(school)
        assert school.id is not None
        seen.add(school.id)
        report.schools.created += 1
        return school
    assert school.id is not None
    first_mention = school.id not in seen
    seen.add(school.id)
    # A later mention may carry what an earlier one lacked (designation, phase, authority, URN).
    changed = False
    for attribute in ("designation", "phase", "authority", "urn"):
        if getattr(school, attribute) is None and getattr(entry, attribute):
            setattr(school, attribute, getattr(entry, attribute))
            changed = True
    if changed:
        session.add(school)
        await session.flush()
        index.add(school)
        report.schools.updated += 1
    elif first_mention:
        report.schools.unchanged += 1
    return school
