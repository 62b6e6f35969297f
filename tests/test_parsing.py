"""The parser and name matching: examples, and properties no command text can break."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.names import match_name
from handlers.parsing import ParseError, parse_fields
from handlers.partnership import partnership
from storage.names import name_key
from tests.support.shell_caller import caller


@pytest.mark.parametrize(("a", "b"), [
    ("St Mary's EN4", "St. Mary's EN4"),
    ("St Mary's EN4", "st marys  en4"),
    ("ST MARY’S EN4", "St Mary's EN4"),
    ("All. Saint's N20", "All Saints N20"),
    ("Courtland ", "Courtland"),
    ("St Agnes", "St. Agnes'"),
    ("Christ's College, Ashmole, Cophall", "christs college ashmole cophall"),
])
def test_name_keys_fold_case_spacing_and_punctuation(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_different_names_keep_different_keys() -> None:
    assert name_key("St Mary's EN4") != name_key("St. Mary's N3")


def test_fields_keep_colons_inside_values() -> None:
    parsed = parse_fields("East Barnet school: St Mary's role: head at 11:30 see: https://x.y",
                          ["school", "role"])
    assert parsed.positional == "East Barnet"
    assert parsed.fields == {"school": "St Mary's", "role": "head at 11:30 see: https://x.y"}


def test_field_names_are_case_blind_and_multiword() -> None:
    parsed = parse_fields("P1 Next Steps: do it YEAR GROUPS: 3, 4", ["next steps", "year groups"])
    assert parsed.fields == {"next steps": "do it", "year groups": "3, 4"}


def test_a_field_given_twice_is_refused() -> None:
    with pytest.raises(ParseError, match="given twice"):
        parse_fields("P1 school: A school: B", ["school"])


def test_overlong_text_is_refused() -> None:
    with pytest.raises(ParseError, match="most I can read"):
        parse_fields("x" * 5000, ["school"])


def test_match_name_reports_ambiguity_and_suggestions() -> None:
    names = ["Partnership 4 - East Barnet Area", "Partnership 5 - East Barnet/Southgate Area"]
    assert len(match_name("east barnet", names, str).ambiguous) == 2
    assert match_name("Partnership 4", names, str).found == names[0]
    assert match_name("Partnershp 4 - East Barnet Area", names, str).suggestions[0] == names[0]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_no_command_text_crashes_the_parser(text: str) -> None:
    try:
        partnership.read(text, caller())
    except ParseError as error:
        assert error.problem


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["create", "join", "leave", "info", "channel", "list", "help"]),
       st.text(alphabet=st.characters(codec="utf-8"), max_size=120),
       st.lists(st.sampled_from(["school:", "role:", "type:", "new:", ":", "scool:"]),
                max_size=4))
def test_no_subcommand_with_fields_crashes_the_parser(sub: str, words: str,
                                                      fields: list[str]) -> None:
    try:
        partnership.read(" ".join([sub, words, *fields, words]), caller())
    except ParseError as error:
        assert error.problem
