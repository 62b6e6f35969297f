"""A workspace's schools held in memory for an import: which stored school an imported name is,
by the strict rule of `same_school` (never a sister school, never a guess)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import School, SchoolAlias
from storage.names import name_key
from storage.school_names import Profile, acronym, analyse, same_school


def profile_of(school: School) -> Profile:
    return Profile.of(school.name, school.postcode, school.town, school.authority,
                      school.gender)


class SchoolIndex:
    def __init__(self) -> None:
        self.by_urn: dict[int, School] = {}
        self._by_key: dict[str, list[School]] = defaultdict(list)
        self._by_core: dict[str, list[School]] = defaultdict(list)
        self._by_acronym: dict[str, list[School]] = defaultdict(list)
        # Names of records merged into a school: that school, whatever the rules say.
        self._by_alias: dict[str, list[School]] = defaultdict(list)
        self._profiles: dict[int, Profile] = {}

    @classmethod
    async def load(cls, session: AsyncSession, workspace: str) -> SchoolIndex:
        index = cls()
        schools = await session.exec(select(School).where(School.workspace == workspace))
        by_id: dict[int, School] = {}
        for school in schools.all():
            index.add(school)
            if school.id is not None:
                by_id[school.id] = school
        aliases = await session.exec(select(SchoolAlias).where(
            SchoolAlias.workspace == workspace))
        for alias in aliases.all():
            if alias.school_id in by_id:
                index._by_alias[alias.name_key].append(by_id[alias.school_id])
        return index

    def add(self, school: School) -> None:
        analysed = analyse(school.name)
        self._by_key[name_key(school.name)].append(school)
        self._by_core[analysed.core_text].append(school)
        self._by_acronym[acronym(analysed.core)].append(school)
        if school.urn is not None:
            self.by_urn[school.urn] = school

    def schools(self) -> list[School]:
        """Every school held, once."""
        return _unique(s for schools in self._by_core.values() for s in schools)

    def forget(self, school: School) -> None:
        for table in (self._by_key, self._by_core, self._by_acronym, self._by_alias):
            for schools in table.values():
                if school in schools:
                    schools.remove(school)
        if school.urn is not None:
            self.by_urn.pop(school.urn, None)

    def profile(self, school: School) -> Profile:
        if school.id is None:
            return profile_of(school)
        if school.id not in self._profiles:
            self._profiles[school.id] = profile_of(school)
        return self._profiles[school.id]

    def same_as(self, name: str, postcode: str | None = None, town: str | None = None,
                authority: str | None = None, urn: int | None = None,
                gender: str | None = None) -> list[School]:
        """The stored schools that are this one (by name and place), best first: the same
        name before another spelling."""
        wanted = Profile.of(name, postcode, town, authority, gender)
        key = name_key(name)
        candidates = _unique([*self._by_key.get(key, ()),
                              *self._by_core.get(wanted.name.core_text, ()),
                              *self._by_acronym.get(acronym(wanted.name.core), ())])
        same = [s for s in candidates
                if not (urn is not None and s.urn is not None and s.urn != urn)
                and same_school(wanted, self.profile(s))]
        if not same:
            same = [s for s in self._by_alias.get(key, ())
                    if urn is None or s.urn is None or s.urn == urn]
        return sorted(same, key=lambda s: (s.name_key != key, s.id or 0))


def _unique(schools: Iterable[School]) -> list[School]:
    seen: set[int] = set()
    out = []
    for school in schools:
        if id(school) not in seen:
            seen.add(id(school))
            out.append(school)
    return out
