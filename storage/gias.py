"""Loading schools from the DfE register, Get Information About Schools (GIAS).

GIAS publishes every establishment in England as one CSV ("edubasealldata…csv", about 50,000
rows, some 130 columns; older extracts in Windows-1252). We read the columns we keep by their
register names, and load them into a workspace's schools in one transaction:

- a school whose URN is stored is refreshed (renamed, closed, its details changed);
- a stored school without a URN (typed in chat or imported from YAML) that is, by name and
  place, exactly one register school takes that URN; one that could be several is left for a
  person to decide (`partnership-bot schools review`), never merged silently;
- every other register school is added.

Running it again over the same file changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import CLOSED, School, SchoolAlias, SchoolReview
from storage.names import name_key, tidy_name
from storage.school_index import SchoolIndex
from storage.school_names import match_key
from storage.schools import insert_schools
from storage.types import utcnow

URN = "URN"
NAME = "EstablishmentName"
TYPE = "TypeOfEstablishment (name)"
STATUS = "EstablishmentStatus (name)"
PHASE = "PhaseOfEducation (name)"
AUTHORITY = "LA (name)"
TOWN = "Town"
POSTCODE = "Postcode"
GENDER = "Gender (name)"  # read when there, not required
COLUMNS = (URN, NAME, TYPE, STATUS, PHASE, AUTHORITY, TOWN, POSTCODE)
ENCODINGS = ("utf-8", "windows-1252")
BATCH = 2_000
MAX_CANDIDATES = 20


class RegisterError(Exception):
    """The file cannot be loaded; the message says why and what to do. Nothing was written."""


class Progress(Protocol):
    """A progress bar (tqdm's interface): told how many rows are done."""

    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RegisterRow:
    urn: int
    name: str
    establishment_type: str | None
    status: str | None
    phase: str | None
    authority: str | None
    town: str | None
    postcode: str | None
    gender: str | None

    def values(self) -> dict[str, str | int | None]:
        return {"urn": self.urn, "name": self.name,
                "establishment_type": self.establishment_type, "status": self.status,
                "phase": self.phase, "authority": self.authority, "town": self.town,
                "postcode": self.postcode, "gender": self.gender}


@dataclass
class RegisterReport:
    rows: int = 0
    encoding: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0  # schools the register now lists as closed that were open here
    matched: list[str] = field(default_factory=list)  # stored schools that took their URN
    to_review: int = 0

    def lines(self) -> list[str]:
        lines = [f"rows read:  {self.rows:,} ({self.encoding})",
                 f"schools:    {self.created:,} created, {self.updated:,} updated, "
                 f"{self.unchanged:,} unchanged, {self.closed:,} closed"]
        if self.matched:
            lines.append(f"matched:    {len(self.matched)} school(s) already here took their URN")
        if self.to_review:
            lines.append(f"to review:  {self.to_review} school(s) could be more than one in the "
                         "register; see `partnership-bot schools review`")
        return lines


def read_register(path: Path, authorities: Sequence[str] = (),
                  encoding: str | None = None) -> tuple[list[RegisterRow], str]:
    """The register's rows (of `authorities` only, when given) and the encoding read."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RegisterError(f"Can't read {path}: {error.strerror}.") from None
    text, used = _decode(raw, path, encoding)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RegisterError(
            f"{path} has no {_plural('column', missing)} {', '.join(repr(c) for c in missing)}. "
            "A GIAS establishment extract (edubasealldata….csv) has the columns "
            f"{', '.join(COLUMNS)}; download it again from Get Information About Schools "
            "(Downloads, Establishment fields CSV)."
            + (" It was read as Windows-1252: if it is another encoding, say which with "
               "--encoding." if used == "windows-1252" else ""))
    reader.fieldnames = header
    wanted = {name_key(a) for a in authorities}
    rows: list[RegisterRow] = []
    seen_authorities: set[str] = set()
    for record in reader:
        authority = _cell(record, AUTHORITY)
        if wanted:
            seen_authorities.add(authority or "")
            if name_key(authority or "") not in wanted:
                continue
        rows.append(_row(record, reader.line_num, path))
    if wanted and not rows:
        raise RegisterError(
            f"No establishment in {path} has {AUTHORITY} "
            f"{' or '.join(repr(a) for a in authorities)}."
            + _nearest_authorities(authorities, seen_authorities))
    return rows, used


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    if b"\x00" in raw[:4096]:
        raise RegisterError(
            f"{path} is not a CSV text file in UTF-8 or Windows-1252 (it looks like UTF-16 or "
            "a spreadsheet). Save it as \"CSV UTF-8\", or download the CSV again from Get "
            "Information About Schools.")
    for candidate in (encoding,) if encoding else ENCODINGS:
        try:
            return raw.decode("utf-8-sig" if candidate == "utf-8" else candidate), candidate
        except (UnicodeDecodeError, LookupError) as error:
            if encoding:
                reason = ("is not an encoding I know" if isinstance(error, LookupError)
                          else f"does not fit byte {error.start + 1:,} of the file")
                raise RegisterError(f"The encoding {encoding!r} {reason}. GIAS extracts are "
                                    "UTF-8 or, older ones, windows-1252.") from None
    raise RegisterError(f"{path} is neither UTF-8 nor Windows-1252 text; say its encoding with "
                        "--encoding.")


def _row(record: dict[str, str | None], line: int, path: Path) -> RegisterRow:
    urn = _cell(record, URN) or ""
    if not (urn.isdigit() and len(urn) == 6):
        raise RegisterError(f"Line {line} of {path} has the URN {urn!r}; a URN has six digits. "
                            "Nothing was loaded.")
    name = tidy_name(_cell(record, NAME) or "")
    if not name_key(name):
        raise RegisterError(f"Line {line} of {path} (URN {urn}) has no {NAME}. Nothing was "
                            "loaded.")
    return RegisterRow(int(urn), name[:200], _cell(record, TYPE, 100), _cell(record, STATUS, 60),
                       _cell(record, PHASE, 40), _cell(record, AUTHORITY, 100),
                       _cell(record, TOWN, 100), _cell(record, POSTCODE, 12),
                       _cell(record, GENDER, 12))


def _cell(record: dict[str, str | None], column: str, limit: int = 200) -> str | None:
    value = tidy_name(record.get(column) or "")
    return value[:limit] or None


def _plural(word: str, items: Sequence[object]) -> str:
    return word if len(items) == 1 else word + "s"


def _nearest_authorities(asked: Sequence[str], known: set[str]) -> str:
    from rapidfuzz import process

    names = sorted(a for a in known if a)
    near: list[str] = []
    for authority in asked:
        near += [n for n, score, _ in process.extract(authority, names, limit=3)
                 if score >= 70 and n not in near]
    return f" The nearest: {', '.join(near)}." if near else ""


async def import_register(db: Database, path: Path, workspace: str,
                          authorities: Sequence[str] = (), encoding: str | None = None,
                          progress_bar: Callable[[int], Progress] | None = None
                          ) -> RegisterReport:
    """Load or refresh the workspace's schools from a GIAS extract, in one transaction.
    `progress_bar(rows)` makes a bar the rows are counted on as they are loaded."""
    rows, used = read_register(path, authorities, encoding)
    report = RegisterReport(rows=len(rows), encoding=used)
    progress = progress_bar(len(rows)) if progress_bar is not None else None
    async with db.session() as session:
        index = await SchoolIndex.load(session, workspace)
        adopted = await _match_stored(session, workspace, rows, index, report)
        pending: list[dict[str, object]] = []
        now = utcnow()
        for row in rows:
            school = index.by_urn.get(row.urn)
            if row.urn in adopted:
                pass
            elif school is None:
                pending.append({**row.values(), "workspace": workspace,
                                "name_key": name_key(row.name), "match_key": match_key(row.name),
                                "created_at": now})
                report.created += 1
            else:
                await _refresh(session, school, row, report)
            if len(pending) >= BATCH:
                await _insert(session, pending)
            if progress is not None:
                progress.update(1)
        await _insert(session, pending)
    if progress is not None:
        progress.close()
    return report


async def _insert(session: AsyncSession, pending: list[dict[str, object]]) -> None:
    await insert_schools(session, pending)
    pending.clear()


async def _refresh(session: AsyncSession, school: School, row: RegisterRow,
                   report: RegisterReport) -> None:
    changes = {k: v for k, v in row.values().items() if getattr(school, k) != v}
    if not changes:
        report.unchanged += 1
        return
    if "name" in changes and school.id is not None:
        # Renamed in the register: the old name still finds it.
        session.add(SchoolAlias(school_id=school.id, workspace=school.workspace,
                                name=school.name, name_key=name_key(school.name)))
    if changes.get("status") == CLOSED:
        report.closed += 1
    else:
        report.updated += 1
    for key, value in changes.items():
        setattr(school, key, value)
    session.add(school)


async def _match_stored(session: AsyncSession, workspace: str, rows: Sequence[RegisterRow],
                        index: SchoolIndex, report: RegisterReport) -> set[int]:
    """Give each stored school without a URN the register's, where it is exactly one register
    school by name and place (it takes the register's details and name, and keeps its own as
    another name); list those that could be several for a person to decide. Returns the URNs
    given."""
    adopted: set[int] = set()
    unnumbered = [s for s in index.schools() if s.urn is None]
    if not unnumbered:
        return adopted
    register = SchoolIndex()
    by_urn: dict[int, RegisterRow] = {}
    for row in rows:
        register.add(School(workspace=workspace, **row.values()))  # type: ignore[arg-type]
        by_urn[row.urn] = row
    reviews = {r.school_id: r for r in (await session.exec(select(SchoolReview).where(
        SchoolReview.workspace == workspace))).all()}
    for school in unnumbered:
        same = register.same_as(school.name, school.postcode, school.town, school.authority,
                                gender=school.gender)
        urns = [s.urn for s in same if s.urn is not None]
        review = reviews.get(school.id or 0)
        if len(urns) == 1 and urns[0] not in index.by_urn:
            row = by_urn[urns[0]]
            if school.id is not None and name_key(row.name) != school.name_key:
                session.add(SchoolAlias(school_id=school.id, workspace=workspace,
                                        name=school.name, name_key=school.name_key))
            report.matched.append(f"{school.name} is URN {row.urn} ({row.name})")
            for key, value in row.values().items():
                setattr(school, key, value)
            session.add(school)
            index.by_urn[row.urn] = school
            adopted.add(row.urn)
            report.updated += 1
            if review is not None:
                await session.delete(review)
        elif urns and school.id is not None:
            candidates = ",".join(str(u) for u in urns[:MAX_CANDIDATES])
            if review is None:
                session.add(SchoolReview(workspace=workspace, school_id=school.id,
                                         candidate_urns=candidates))
            elif not review.dismissed and review.candidate_urns != candidates:
                review.candidate_urns = candidates
                session.add(review)
            if review is None or not review.dismissed:
                report.to_review += 1
    await session.flush()
    return adopted
