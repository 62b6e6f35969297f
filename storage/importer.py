"""Load a whole authority's partnerships from YAML (the format of shared/data/partnerships.yaml).

Idempotent: a partnership or school is found by its name key, so importing twice changes nothing.
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

    def lines(self) -> list[str]:
        return [
            f"partnerships: {self.partnerships}",
            f"schools:      {self.schools}",
            f"memberships:  {self.memberships}",
        ]


@dataclass(frozen=True)
class SchoolEntry:
    name: str
    designation: str | None = None
    phase: str | None = None
    authority: str | None = None


@dataclass(frozen=True)
class PartnershipEntry:
    name: str
    kind: PartnershipKind
    proposed: bool
    note: str | None
    schools: tuple[SchoolEntry, ...]


def read_file(path: Path) -> list[PartnershipEntry]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ImportError_(f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("authorities"), list):
        raise ImportError_(f"{path} should have a top-level `authorities:` list.")
    entries: list[PartnershipEntry] = []
    for authority in data["authorities"]:
        where = f"authority {authority.get('name', '?')!r}"
        for key in ("partnerships", "other_partnerships"):
            for item in authority.get(key) or []:
                entries.append(_partnership(item, where))
    return entries


def _partnership(item: Any, where: str) -> PartnershipEntry:
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
    schools = tuple(_school(s, name) for s in raw_schools)
    note = item.get("note")
    return PartnershipEntry(name, kind, proposed, str(note) if note else None, schools)


def _school(item: Any, partnership: str) -> SchoolEntry:
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict) or not str(item.get("name") or "").strip():
        raise ImportError_(f"A school in {partnership!r} has no name.")
    name = tidy_name(str(item["name"]))
    authority = item.get("authority")
    borough = _BOROUGH.match(name)
    if borough and authority is None:
        name, authority = borough["name"], borough["authority"]
    return SchoolEntry(
        name=name,
        designation=item.get("designation"),
        phase=item.get("phase"),
        authority=authority,
    )


async def import_file(db: Database, path: Path, workspace: str) -> ImportReport:
    """Import everything in one transaction: a bad file leaves the database as it was."""
    entries = read_file(path)
    report = ImportReport()
    async with db.session() as session:
        schools = {s.name_key: s for s in await queries.schools_in(session, workspace)}
        seen: set[str] = set()
        for entry in entries:
            partnership = await _ensure_partnership(session, workspace, entry, report)
            assert partnership.id is not None
            for school_entry in entry.schools:
                school = await _ensure_school(session, workspace, school_entry, schools, seen,
                                              report)
                assert school.id is not None
                if await queries.school_link(session, partnership.id, school.id) is None:
                    session.add(PartnershipSchool(partnership_id=partnership.id,
                                                  school_id=school.id))
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
        report.partnerships.unchanged += 1
        return existing
    partnership = Partnership(workspace=workspace, name=entry.name, name_key=key,
                              kind=entry.kind.value, proposed=entry.proposed, note=entry.note,
                              created_by="import")
    session.add(partnership)
    await session.flush()
    report.partnerships.created += 1
    return partnership


async def _ensure_school(
    session: AsyncSession,
    workspace: str,
    entry: SchoolEntry,
    known: dict[str, School],
    seen: set[str],
    report: ImportReport,
) -> School:
    """The school for `entry`, created if new; each school is counted once however often named."""
    key = name_key(entry.name)
    first_mention = key not in seen
    seen.add(key)
    school = known.get(key)
    if school is None:
        school = School(workspace=workspace, name=entry.name, name_key=key,
                        designation=entry.designation, phase=entry.phase,
                        authority=entry.authority)
        session.add(school)
        await session.flush()
        known[key] = school
        report.schools.created += 1
        return school
    # A later mention may carry what an earlier one lacked (designation, phase, authority).
    changed = False
    for attribute in ("designation", "phase", "authority"):
        if getattr(school, attribute) is None and getattr(entry, attribute):
            setattr(school, attribute, getattr(entry, attribute))
            changed = True
    if changed:
        session.add(school)
        report.schools.updated += 1
    elif first_mention:
        report.schools.unchanged += 1
    return school
