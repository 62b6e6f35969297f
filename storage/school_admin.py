"""Admin work on schools: merging two records that are one school, and the review list the
register import leaves for a person (`partnership-bot schools merge`, `schools review`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    or_,
    update,
)
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import schools as stored
from storage.models import School, SchoolAlias, SchoolReview
from storage.names import name_key

# What the rows that refer to a school are, for people (tables not listed show their name).
LABELS = {
    "partnership_school": "partnership memberships",
    "member": "members (people joined for it)",
    "learning_walk": "learning walks it hosted",
    "cpd_session": "CPD sessions it hosted",
    "cpd_attendance": "CPD sessions it attended",
    "school_alias": "other names",
}
# Rows about a record rather than the school: its word index and its review go with it.
NOT_MOVED = frozenset({"school_word", "school_review"})
# Details the kept record takes from the other where it has none.
DETAILS = ("designation", "phase", "authority", "urn", "establishment_type", "status", "town",
           "postcode")


class SchoolAdminError(Exception):
    """Said to the admin as it is; nothing was changed."""


async def resolve_school(session: AsyncSession, workspace: str, text: str) -> School:
    """A school named by URN ("101234"), record number ("#12" or "12") or exact name."""
    text = text.strip()
    digits = text.lstrip("#")
    if digits.isdigit():
        if len(digits) == 6 and not text.startswith("#"):
            school = await stored.by_urn(session, workspace, int(digits))
            if school is None:
                raise SchoolAdminError(f"No school here has the URN {digits}.")
            return school
        found = (await session.exec(select(School).where(
            School.workspace == workspace, School.id == int(digits)))).first()
        if found is None:
            raise SchoolAdminError(f"There is no school #{digits} here.")
        return found
    named = await stored.by_name_key(session, workspace, name_key(text))
    if not named:
        raise SchoolAdminError(f"No school here is called {text!r}; give its URN or its "
                               "number (#12) from `partnership-bot schools review`.")
    if len(named) > 1:
        listed = "; ".join(f"#{s.id} {s.name}" + (f" (URN {s.urn})" if s.urn else "")
                           for s in named)
        raise SchoolAdminError(f"{text!r} is {len(named)} schools here: {listed}. Give the "
                               "number or the URN.")
    return named[0]


@dataclass
class MergePlan:
    source: School
    target: School
    moved: list[tuple[str, int]] = field(default_factory=list)
    dropped: list[tuple[str, int]] = field(default_factory=list)  # already on the kept one
    details: list[str] = field(default_factory=list)

    def lines(self, done: bool) -> list[str]:
        verb = "Merged" if done else "Would merge"
        lines = [f"{verb} #{self.source.id} {self.source.name!r} into "
                 f"#{self.target.id} {self.target.name!r}"
                 + (f" (URN {self.target.urn or self.source.urn})"
                    if self.target.urn or self.source.urn else "") + ":"]
        lines += [f"  {'moved' if done else 'move'} {n} {label}" for label, n in self.moved]
        lines += [f"  {'dropped' if done else 'drop'} {n} {label} the kept school already has"
                  for label, n in self.dropped]
        lines += [f"  {'took' if done else 'take'} {d}" for d in self.details]
        lines.append(f"  {self.source.name!r} {'is' if done else 'will be'} kept as another "
                     f"name of {self.target.name!r}; #{self.source.id} "
                     f"{'is' if done else 'will be'} removed")
        if not done:
            lines.append("Nothing was changed (dry run).")
        return lines


async def merge_schools(session: AsyncSession, source: School, target: School,
                        dry_run: bool) -> MergePlan:
    """Move everything of `source` (memberships, members, walks, CPD, other names) to `target`
    and remove `source`; its name stays findable as another name of `target`."""
    if source.id is None or target.id is None or source.id == target.id:
        raise SchoolAdminError("Those are the same record; give two different schools.")
    if source.urn is not None and target.urn is not None:
        raise SchoolAdminError(
            f"Both have URNs ({source.urn} and {target.urn}): the register says they are two "
            "schools, so they are not merged. (A school that reopened under a new URN keeps "
            "its old record for the history.)")
    plan = MergePlan(source, target)
    for column in _columns_referring_to_school():
        table = column.table
        if table.name in NOT_MOVED:
            continue
        label = LABELS.get(table.name, table.name)
        collide = _collisions(table, column, source.id, target.id)
        total = await _count(session, table, column == source.id)
        clashing = await _count(session, table, and_(column == source.id, collide)) \
            if collide is not None else 0
        if total - clashing:
            plan.moved.append((label, total - clashing))
        if clashing:
            plan.dropped.append((label, clashing))
        if not dry_run:
            if collide is not None:
                await session.exec(delete(table).where(
                    column == source.id, collide))
            await session.exec(update(table).where(
                column == source.id).values({column.name: target.id}))
    for detail in DETAILS:
        if getattr(target, detail) is None and getattr(source, detail) is not None:
            plan.details.append(f"{detail.replace('_', ' ')}: {getattr(source, detail)}")
            if not dry_run:
                setattr(target, detail, getattr(source, detail))
    if dry_run:
        return plan
    await session.exec(delete(SchoolReview).where(
        col(SchoolReview.school_id) == source.id))
    urn = source.urn
    await session.delete(source)
    await session.flush()
    if urn is not None:
        target.urn = urn
    session.add(target)
    if source.name_key != target.name_key:
        alias_taken = (await session.exec(select(SchoolAlias).where(
            SchoolAlias.school_id == target.id,
            SchoolAlias.name_key == source.name_key))).first()
        if alias_taken is None:
            session.add(SchoolAlias(school_id=target.id, workspace=target.workspace,
                                    name=source.name, name_key=source.name_key))
    await session.flush()
    return plan


def _columns_referring_to_school() -> list[Column[int]]:
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "school" and fk.column.name == "id":
                found.append(fk.parent)
    return found


def _collisions(table: Table, column: Column[int], source: int,
                target: int) -> ColumnElement[bool] | None:
    """A condition true of `source`'s rows that would break a unique constraint once moved to
    `target` (the same partnership twice, the same CPD session twice)."""
    conditions: list[ColumnElement[bool]] = []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and column.name in constraint.columns:
            others = [c for c in constraint.columns if c.name != column.name]
            twin = table.alias("twin")
            conditions.append(exists().where(
                twin.c[column.name] == target,
                *[twin.c[c.name] == table.c[c.name] for c in others]))
    if not conditions:
        return None
    return or_(*conditions)


async def _count(session: AsyncSession, table: Table, condition: ColumnElement[bool]) -> int:
    result = await session.exec(select(func.count()).select_from(table).where(condition))
    return int(result.one())


# --- the review list ------------------------------------------------------------------------


async def review_lines(session: AsyncSession, workspace: str) -> list[str]:
    reviews = (await session.exec(select(SchoolReview, School)
                                  .join(School, col(School.id) == SchoolReview.school_id)
                                  .where(SchoolReview.workspace == workspace,
                                         col(SchoolReview.dismissed).is_(False))
                                  .order_by(col(School.name)))).all()
    if not reviews:
        return ["Nothing to review: every school here either has its URN or matched none in "
                "the register."]
    partnerships = await stored.partnerships_of(session, [s.id for _, s in reviews if s.id])
    lines = [f"{len(reviews)} school(s) could be more than one school in the register. For "
             "each, merge it into the right one (check with --dry-run first), or dismiss it "
             "if it is none of them:", ""]
    for review, school in reviews:
        where = ", ".join(p.name for p in partnerships.get(school.id or 0, [])) or \
            "no partnership"
        lines.append(f"#{school.id} {school.name} ({where})")
        urns = [int(u) for u in review.candidate_urns.split(",") if u.strip().isdigit()]
        for candidate in await stored.by_urns(session, workspace, urns):
            place = ", ".join(x for x in (candidate.town, candidate.postcode,
                                          candidate.authority, candidate.status) if x)
            lines.append(f"    {candidate.urn}  {candidate.name} ({place})")
        first = urns[0] if urns else "URN"
        lines.append(f"    partnership-bot schools merge {school.id} {first} [--dry-run]")
        lines.append(f"    partnership-bot schools review --dismiss {school.id}")
    return lines


async def dismiss_review(session: AsyncSession, workspace: str, school_id: int) -> str:
    review = (await session.exec(select(SchoolReview).where(
        SchoolReview.workspace == workspace, SchoolReview.school_id == school_id))).first()
    if review is None:
        raise SchoolAdminError(f"School #{school_id} is not on the review list.")
    review.dismissed = True
    session.add(review)
    return (f"School #{school_id} is off the review list; later imports will not ask about it "
            "again.")
