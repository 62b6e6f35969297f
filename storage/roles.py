"""Job titles as the sector names them, so one partnership doesn't list "head", "headteacher",
"head teacher" and "Headteacher" as four roles. A title typed loosely is stored in its known
form; one that is not a known role is kept as typed."""

from __future__ import annotations

import difflib

from storage.names import name_key

KNOWN_ROLES = (
    "Headteacher", "Executive headteacher", "Head of school", "Deputy headteacher",
    "Assistant headteacher", "SENCO", "Subject leader", "Teacher", "Teaching assistant",
    "School business manager", "Chair of governors", "Governor", "Trust leader",
    "Local authority adviser",
)

# What people type for each, beyond the role's own name (compared as name keys).
_ALSO = {
    "Headteacher": ("head", "head teacher", "headmaster", "headmistress", "ht", "principal"),
    "Executive headteacher": ("executive head", "exec head", "exec headteacher", "eht",
                              "executive principal"),
    "Head of school": ("hos",),
    "Deputy headteacher": ("deputy", "deputy head", "deputy head teacher", "dht",
                           "vice principal"),
    "Assistant headteacher": ("assistant head", "assistant head teacher", "aht",
                              "assistant principal"),
    "SENCO": ("sendco", "senco lead", "special educational needs coordinator",
              "inclusion lead"),
    "Subject leader": ("subject lead", "curriculum leader", "curriculum lead"),
    "Teacher": ("class teacher", "classroom teacher"),
    "Teaching assistant": ("ta", "classroom assistant", "learning support assistant", "lsa"),
    "School business manager": ("sbm", "business manager", "bursar"),
    "Chair of governors": ("chair", "chair of govs", "cog", "chair of the governing board"),
    "Governor": ("governors", "gov"),
    "Trust leader": ("ceo", "trust ceo", "mat ceo", "trust lead"),
    "Local authority adviser": ("la adviser", "la advisor", "local authority advisor",
                                "school improvement adviser", "school improvement advisor",
                                "sia"),
}

_BY_KEY: dict[str, str] = {}
for _role in KNOWN_ROLES:
    for _typed in (_role, *_ALSO.get(_role, ())):
        _BY_KEY[name_key(_typed)] = _role


def canonical_role(typed: str) -> str:
    """The known role `typed` means ("head teacher" -> "Headteacher", a slip such as
    "headteahcer" too), or what was typed, tidied, when it is none of them."""
    key = name_key(typed)
    if key in _BY_KEY:
        return _BY_KEY[key]
    # Slips in longer words only: "ta" or "gov" must not catch something else.
    close = difflib.get_close_matches(key, [k for k in _BY_KEY if len(k) >= 6], n=1,
                                      cutoff=0.88) if len(key) >= 6 else []
    return _BY_KEY[close[0]] if close else " ".join(typed.split())
