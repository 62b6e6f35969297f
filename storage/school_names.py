"""What a school's name says, and when two names are one school.

A name is split into its *core* (the school's own words: "Cunningham Hill", "St Mary's") and the
words that tell schools apart, which are never noise: the stage ("Infant", "Junior",
"Primary", "Nursery", "Secondary", "High", "Academy", …), the denomination ("CE", "C of E",
"RC", "Catholic"), boys or girls, and a place (a postcode district such as "EN4"). Words that
say nothing ("School", "The", "and") are dropped, and so is a generic stage word ("Primary
School") where the other name has no stage at all. So "Monkfrith Primary School" is Monkfrith,
and "Cunningham Hill Junior" is never Cunningham Hill Infant.

Two uses, two strengths:
- `same_school` is strict and symmetric, for importers that must never join two schools;
- `fit` grades a typed query against a stored school for lookups: the same school, a school the
  query only starts (a query with fewer words), a similar spelling (a "did you mean"), or a
  sister school ("a different school").

Fuzzy comparisons use rapidfuzz (Indel ratio, in C): fast enough to score hundreds of candidates
per lookup, where the candidates themselves come from indexed columns (`match_key`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from rapidfuzz import fuzz

from storage.names import name_key

# Words naming a stage or kind of school, by their canonical form.
_STAGE_WORDS = {
    "infant": "infant", "infants": "infant", "inf": "infant",
    "junior": "junior", "juniors": "junior", "jun": "junior", "jnr": "junior",
    "primary": "primary", "prim": "primary", "jmi": "primary",
    "nursery": "nursery",
    "secondary": "secondary",
    "high": "high",
    "academy": "academy",
    "college": "college",
    "middle": "middle",
    "special": "special",
    "university": "university",
}
# Stage words a name may leave out: "Monkfrith" and "Monkfrith Primary School" are one school,
# "Bernards Heath Infant" and "Bernards Heath Infant and Nursery" too.
OPTIONAL_STAGES = frozenset({"primary", "secondary", "nursery", "special"})
_DENOMINATIONS = {"ce": "ce", "cofe": "ce", "cevc": "ce", "ceva": "ce", "cevap": "ce",
                  "rc": "catholic", "catholic": "catholic"}
# Phrases folded to one word before the words are sorted (on name keys).
_PHRASES = [
    (re.compile(r"\bchurch of england\b"), "ce"),
    (re.compile(r"\bc of e\b"), "ce"),
    (re.compile(r"\bc e\b"), "ce"),
    (re.compile(r"\broman catholic\b"), "catholic"),
    (re.compile(r"\bteaching school\b"), "school"),  # a designation, not a name
    (re.compile(r"\bsaint\b"), "st"),
]
_GENDERS = {"boys": "boys", "boy": "boys", "girls": "girls", "girl": "girls"}
_NOISE = frozenset({"school", "schools", "sch", "the", "and", "of", "community"})
# A postcode district ("EN4", "NW7", "N3", "WC1A"); a postcode's second half ("9LR") says
# nothing more.
POSTCODE_DISTRICT = re.compile(r"^[a-z]{1,2}\d{1,2}[a-z]?$")
_INWARD_CODE = re.compile(r"^\d[a-z]{2}$")
# Core words too common to find candidates by (they still count when comparing).
COMMON_WORDS = frozenset({"st", "all", "saints", "holy", "our", "lady", "christ", "church",
                          "park", "hill", "green", "road", "lane", "house", "new", "north",
                          "south", "east", "west", "upper", "lower", "great", "little",
                          "trinity", "marys", "johns", "pauls", "josephs", "peters"})

SIMILAR_AT = 80.0  # rapidfuzz ratio (0-100) from which a spelling is offered as "did you mean"


@dataclass(frozen=True)
class SchoolName:
    """A name taken apart."""

    key: str
    core: tuple[str, ...]
    stages: frozenset[str] = frozenset()
    denominations: frozenset[str] = frozenset()
    genders: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()

    @property
    def core_text(self) -> str:
        return " ".join(self.core)

    @property
    def required_stages(self) -> frozenset[str]:
        return self.stages - OPTIONAL_STAGES


def analyse(name: str) -> SchoolName:
    key = name_key(name)
    text = key
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    core: list[str] = []
    stages: set[str] = set()
    denominations: set[str] = set()
    genders: set[str] = set()
    places: set[str] = set()
    for word in text.split():
        if word in _STAGE_WORDS:
            stages.add(_STAGE_WORDS[word])
        elif word in _DENOMINATIONS:
            denominations.add(_DENOMINATIONS[word])
        elif word in _GENDERS:
            genders.add(_GENDERS[word])
        elif POSTCODE_DISTRICT.match(word) and core:
            places.add(word)
        elif word in _NOISE or (_INWARD_CODE.match(word) and places):
            continue
        else:
            core.append(word)
    if not core and places:  # "N11" alone is a name, not a place
        core = sorted(places)
        places = set()
    return SchoolName(key, tuple(core), frozenset(stages), frozenset(denominations),
                      frozenset(genders), frozenset(places))


def match_key(name: str) -> str:
    """The stored, indexed key lookups start from: the core words alone."""
    return analyse(name).core_text


def postcode_district(postcode: str | None) -> str | None:
    """ "EN4 9LR" -> "en4"; None when it does not look like a postcode."""
    if not postcode:
        return None
    first = postcode.strip().split()[0].lower() if postcode.strip() else ""
    if " " not in postcode.strip() and len(first) > 4:  # "EN49LR"
        first = first[:-3]
    return first if POSTCODE_DISTRICT.match(first) else None


def acronym(core: Sequence[str]) -> str:
    """"queen elizabeths" -> "qe"; a short word stands for its letters ("qe" -> "qe"), so
    names written with initials meet their full spelling."""
    return "".join(w if is_initials(w) else w[0] for w in core if w)


def is_initials(word: str) -> bool:
    return 2 <= len(word) <= 3 and word.isalpha() and word not in ("st", "all", "our", "new")


@dataclass(frozen=True)
class Profile:
    """A stored school as the matcher sees it: its name and where it is."""

    name: SchoolName
    places: frozenset[str]  # postcode districts: from the name and from its postcode
    area_words: frozenset[str]  # words of its town and local authority
    authority: str | None  # name key of its local authority
    genders: frozenset[str] = frozenset()  # boys or girls: from the name and the register

    @classmethod
    def of(cls, name: str, postcode: str | None = None, town: str | None = None,
           authority: str | None = None, gender: str | None = None) -> Profile:
        analysed = analyse(name)
        places = set(analysed.places)
        district = postcode_district(postcode)
        if district:
            places.add(district)
        area = set(name_key(town or "").split()) | set(name_key(authority or "").split())
        genders = set(analysed.genders)
        if gender and name_key(gender) in _GENDERS:
            genders.add(_GENDERS[name_key(gender)])
        return cls(analysed, frozenset(places), frozenset(area - _NOISE),
                   name_key(authority) if authority else None, frozenset(genders))


def _expand_initials(words: Sequence[str], other: Sequence[str]) -> tuple[str, ...]:
    """`words` with any initials ("qe") spelled out as the run of `other` they stand for."""
    out: list[str] = []
    for word in words:
        if is_initials(word) and word not in other:
            n = len(word)
            for start in range(len(other) - n + 1):
                run = other[start:start + n]
                if "".join(w[0] for w in run) == word:
                    out.extend(run)
                    break
            else:
                out.append(word)
        else:
            out.append(word)
    return tuple(out)


def _cores(a: Sequence[str], b: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return _expand_initials(a, b), _expand_initials(b, a)


def _without_area(words: Sequence[str], other: Profile) -> tuple[tuple[str, ...], int]:
    """`words` less trailing words naming `other`'s town or authority ("St Marys Barnet"), and
    how many went."""
    kept = list(words)
    dropped = 0
    while len(kept) > 1 and kept[-1] in other.area_words and kept[-1] not in other.name.core:
        kept.pop()
        dropped += 1
    return tuple(kept), dropped


def _stages_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two stage sets that cannot be one school (symmetric)."""
    if a - OPTIONAL_STAGES != b - OPTIONAL_STAGES:
        return True
    optional_a, optional_b = a & OPTIONAL_STAGES, b & OPTIONAL_STAGES
    return bool(optional_a and optional_b and not optional_a & optional_b)


def _sets_conflict(a: Iterable[str], b: Iterable[str]) -> bool:
    a, b = set(a), set(b)
    return bool(a and b and not a & b)


def same_school(a: Profile, b: Profile) -> bool:
    """Whether two records are one school, by name and place: strict, for importers."""
    if a.name.key == b.name.key and not _sets_conflict(a.places, b.places) and not (
            a.authority and b.authority and a.authority != b.authority):
        return True
    core_a, core_b = _cores(a.name.core, b.name.core)
    core_a, _ = _without_area(core_a, b)
    core_b, _ = _without_area(core_b, a)
    if not core_a or core_a != core_b:
        return False
    return not (_stages_conflict(a.name.stages, b.name.stages)
                or _sets_conflict(a.name.denominations, b.name.denominations)
                or _sets_conflict(a.genders, b.genders)
                or _sets_conflict(a.places, b.places)
                or (a.authority and b.authority and a.authority != b.authority))


class Fit(IntEnum):
    """How a typed query relates to a stored school, best first."""

    SAME = 1  # the same school (the query may leave out words, as "Monkfrith Primary School")
    STARTS = 2  # the query is the start or some whole words of its name ("Cunningham")
    SIMILAR = 3  # a near spelling: offered as "did you mean", never taken
    DIFFERENT = 4  # a sister school: the same name but another stage, place or denomination


@dataclass(frozen=True)
class Graded:
    fit: Fit
    # Within a grade, higher is a closer fit: words of the query the school has, less words
    # the school has that the query left out.
    score: float
    similarity: float = field(default=100.0)


def fit(query: SchoolName, school: Profile) -> Graded | None:
    """How `query` fits `school`, or None when they have nothing to do with each other."""
    q_core, s_core = _cores(query.core, school.name.core)
    q_core, area_matched = _without_area(q_core, school)
    if not q_core:
        return None
    if q_core == s_core:
        grade = Fit.SAME
        similarity = 100.0
    elif _whole_words_within(q_core, s_core):
        grade = Fit.STARTS
        similarity = 100.0
    else:
        q_text, s_text = " ".join(q_core), " ".join(s_core)
        similarity = max(fuzz.ratio(q_text, s_text), fuzz.token_sort_ratio(q_text, s_text))
        if similarity < SIMILAR_AT:
            return None
        grade = Fit.SIMILAR
    score, conflict = _distinguishing(query, school)
    score += area_matched
    if conflict:
        return Graded(Fit.DIFFERENT, score, similarity) if grade != Fit.STARTS else None
    return Graded(grade, score, similarity)


def _whole_words_within(query: Sequence[str], name: Sequence[str]) -> bool:
    """Every query word is a word of the name, in order ("cunningham" in "cunningham hill")."""
    if len(query) >= len(name):
        return False
    position = 0
    for word in query:
        try:
            position = list(name).index(word, position) + 1
        except ValueError:
            return False
    return True


def _distinguishing(query: SchoolName, school: Profile) -> tuple[float, bool]:
    """(score, conflict): how well the query's distinguishing words agree with the school's."""
    s = school.name
    score = 0.0
    # Stages: a stage the query requires (Infant, Junior, High, ...) must be the school's;
    # when both name stages, they must share one ("Moss Hall Primary" is not "Moss Hall
    # Infant"); a generic one ("Primary") may be missing from the school's name.
    if any(stage not in s.stages for stage in query.required_stages):
        return score, True
    if query.stages and s.stages and not query.stages & s.stages:
        return score, True
    score += len(query.stages & s.stages) - 0.5 * len(query.stages - s.stages)
    score -= len(s.required_stages - query.stages)
    score -= 0.25 * len((s.stages & OPTIONAL_STAGES) - query.stages)
    for asked, has in ((query.denominations, s.denominations), (query.genders, school.genders),
                       (query.places, school.places)):
        if asked and has:
            if not asked & has:
                return score, True
            score += 1
        elif asked:
            score -= 0.5
    score -= len(s.denominations - query.denominations) + len(s.genders - query.genders)
    score -= len(s.places - query.places)
    return score, False
