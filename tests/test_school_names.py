"""School names taken apart: tables over the phrasings heads type and the Barnet and Heath and
Hill data. Sister schools are never the same school; every spelling of one school is."""

from __future__ import annotations

import pytest

from storage.school_names import (
    Fit,
    Profile,
    analyse,
    fit,
    match_key,
    postcode_district,
    same_school,
)

# Schools side by side in the data that are different schools: never the same, never offered
# as each other.
SISTERS = [
    ("Moss Hall Infant", "Moss Hall Junior"),
    ("Moss Hall Infant", "Moss Hall Nursery"),
    ("Moss Hall Junior", "Moss Hall Nursery"),
    ("Queenswell Infant", "Queenswell Junior"),
    ("Annunciation Infant", "Annunciation Junior"),
    ("Brookland Infant", "Brookland Junior"),
    ("Garden Suburb Infant", "Garden Suburb Junior"),
    ("Dollis Infant", "Dollis Junior"),
    ("Deansbrook Infant", "Deansbrook Juniors"),
    ("Deansbrook Infant", "Deansbrook Junior School"),
    ("Bernards Heath Infant and Nursery", "Bernards Heath Junior"),
    ("Cunningham Hill Infant", "Cunningham Hill Junior"),
    ("Cunningham Hill Infant School", "Cunningham Hill Junior School"),
    ("St Mary's EN4", "St. Mary's N3"),
    ("St John's N11", "St John's N20"),
    ("St Paul's N11", "St Paul's NW7"),
    ("All. Saint's N20", "All Saints NW2"),
    ("Queen Elizabeth's Girls School", "QE Boys Secondary School"),
    ("St Mary's CE Primary", "St Mary's RC Primary"),
    ("Moss Hall Primary", "Moss Hall Infant"),
]


@pytest.mark.parametrize(("a", "b"), SISTERS)
def test_sister_schools_are_never_one_school(a: str, b: str) -> None:
    assert not same_school(Profile.of(a), Profile.of(b))
    for query, stored in ((a, b), (b, a)):
        graded = fit(analyse(query), Profile.of(stored))
        assert graded is not None and graded.fit is Fit.DIFFERENT, (query, stored, graded)


# The same school under the spellings the data and heads use.
SAME = [
    ("Monkfrith Primary School", "Monkfrith"),
    ("Osidge Primary", "Osidge"),
    ("Danegrove Primary School", "Danegrove"),
    ("Grasvenor Infant School", "Grasvenor Infant"),
    ("Hollickwood Primary School", "Hollickwood"),
    ("Broadfields Primary School", "Broadfields"),
    ("Underhill Primary", "Underhill School"),
    ("Northgate School", "Northgate Teaching School"),
    ("Henrietta Barnett School", "Henrietta Barnett Secondary School"),
    ("Queen Elizabeth's Boys", "QE Boys Secondary School"),
    ("Mill Hill County High School", "Mill Hill County High"),
    ("Whitefield", "Whitefield Secondary School"),
    ("Deansbrook Junior School", "Deansbrook Juniors"),
    ("St Agnes", "St. Agnes'"),
    ("St Mary's and St John's", "St. Mary's and St. John's"),
    ("Bernards Heath Infant and Nursery School", "Bernards Heath Infant and Nursery"),
    ("Cunningham Hill Junior School", "Cunningham Hill Junior"),
    ("St Mary's Church of England Primary School", "St Mary's C of E Primary"),
    ("Saint Theresa’s RC Primary", "St. Theresa's Catholic Primary School"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_one_school_under_two_spellings(a: str, b: str) -> None:
    assert same_school(Profile.of(a), Profile.of(b))
    assert same_school(Profile.of(b), Profile.of(a))
    for query, stored in ((a, b), (b, a)):
        graded = fit(analyse(query), Profile.of(stored))
        assert graded is not None and graded.fit is Fit.SAME, (query, stored, graded)


# What a head types, the stored school, and how they relate.
TYPED = [
    ("Cunningham Hill", "Cunningham Hill Infant", Fit.SAME),  # too few words: ambiguous later
    ("Cunningham", "Cunningham Hill Infant", Fit.STARTS),
    ("Monkfirth", "Monkfrith", Fit.SIMILAR),
    ("Cuningham Hill Junior", "Cunningham Hill Junior School", Fit.SIMILAR),
    ("Cuningham Hill Junior", "Cunningham Hill Infant School", Fit.DIFFERENT),
    ("st marys", "St Mary's EN4", Fit.SAME),
    ("St Mary's EN4", "St Mary's CofE Primary School", Fit.SAME),
    ("Bernards Heath Infant", "Bernards Heath Infant and Nursery", Fit.SAME),
    ("Bernards Heath Junior", "Bernards Heath Infant and Nursery", Fit.DIFFERENT),
    ("QE Boys", "Queen Elizabeth's Boys", Fit.SAME),
    ("Menorah", "Menorah Foundation", Fit.STARTS),
]


@pytest.mark.parametrize(("typed", "stored", "expected"), TYPED)
def test_what_heads_type(typed: str, stored: str, expected: Fit) -> None:
    postcode = "EN4 8SR" if stored == "St Mary's CofE Primary School" else None
    graded = fit(analyse(typed), Profile.of(stored, postcode))
    assert graded is not None and graded.fit is expected, graded


def test_a_place_tells_same_named_schools_apart() -> None:
    east_barnet = Profile.of("St Mary's CofE Primary School", "EN4 8SR", "Barnet", "Barnet")
    finchley = Profile.of("St Mary's CofE Primary School", "N3 1BT", "London", "Barnet")
    welwyn = Profile.of("St Mary's CofE Primary School", "AL6 9LD", "Welwyn", "Hertfordshire")
    assert not same_school(east_barnet, finchley)
    assert not same_school(east_barnet, welwyn)
    en4 = fit(analyse("St Mary's EN4"), east_barnet)
    assert en4 is not None and en4.fit is Fit.SAME
    n3 = fit(analyse("St Mary's EN4"), finchley)
    assert n3 is not None and n3.fit is Fit.DIFFERENT
    by_town = fit(analyse("St Marys CE Welwyn"), welwyn)
    assert by_town is not None and by_town.fit is Fit.SAME
    # The same name in two authorities is two schools (Claremont in Barnet and in Brent).
    assert not same_school(Profile.of("Claremont", authority="Barnet"),
                           Profile.of("Claremont", authority="Brent"))


def test_keys() -> None:
    assert match_key("The Cunningham Hill Infant School") == "cunningham hill"
    assert match_key("St Mary's C of E Primary School EN4") == "st marys"
    assert match_key("N11") == "n11"
    assert postcode_district("EN4 8SR") == "en4"
    assert postcode_district("nw71qu") == "nw7"
    assert postcode_district("not a postcode") is None
