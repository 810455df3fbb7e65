"""The Deezer-id matcher's choice among search results (pure, no I/O): sure matches only."""

from __future__ import annotations

from artist_desktop.domain import normalise_name
from artist_desktop.services.deezer import DeezerArtist
from artist_desktop.services.deezer_matcher import DOMINANCE, PLAUSIBLE, Confidence, choose

FAMOUS, SMALL = 11_204_871, 9_140  # Spotify followers of the two "Nirvana"s (issue 16)


def artist(deezer_id: int, name: str, nb_fan: object = 0) -> DeezerArtist:
    return DeezerArtist(id=deezer_id, name=name, nb_fan=nb_fan)


NIRVANAS = [artist(415, "Nirvana", 9_812_377), artist(1_447_311, "NIRVANA", 2_140), artist(9, "Nirvana Tribute", 10)]


def test_one_candidate_with_the_exact_normalised_name_is_a_sure_match() -> None:
    candidates = [artist(1, "Beyoncé Tribute Band", 9_000_000), artist(2, "BEYONCE!", 30)]
    match = choose("Beyoncé", candidates)
    assert (match.confidence, match.artist, match.warning) == (Confidence.UNIQUE, candidates[1], None)


def test_two_namesakes_without_followers_are_a_guess_not_a_match() -> None:
    match = choose("Nirvana", NIRVANAS)
    assert match.artist is None and match.confidence is Confidence.AMBIGUOUS
    assert [c.id for c in match.candidates] == [415, 1_447_311]
    assert match.warning == "2 Deezer artists named Nirvana: set one by hand"


def test_the_famous_band_is_settled_by_its_followers_the_small_one_is_not() -> None:
    famous = choose("Nirvana", NIRVANAS, followers=FAMOUS)
    assert famous.confidence is Confidence.DOMINANT and famous.artist is not None and famous.artist.id == 415
    small = choose("Nirvana", NIRVANAS, followers=SMALL)  # 9.8 M fans are no 9 K-follower band's
    assert small.artist is None and small.warning == "2 Deezer artists named Nirvana: set one by hand"


def test_the_tie_breaker_needs_a_dominant_and_plausible_candidate() -> None:
    close = [artist(1, "Air", 900_000), artist(2, "AIR", 900_000 // (DOMINANCE - 1))]  # not 100x apart
    assert choose("Air", close, followers=1_000_000).confidence is Confidence.AMBIGUOUS
    apart = [artist(1, "Air", 900_000), artist(2, "AIR", 900_000 // DOMINANCE)]
    assert choose("Air", apart, followers=1_000_000).confidence is Confidence.DOMINANT
    assert choose("Air", apart, followers=900_000 * PLAUSIBLE).confidence is Confidence.DOMINANT
    assert choose("Air", apart, followers=900_000 * PLAUSIBLE + 1).confidence is Confidence.AMBIGUOUS
    assert choose("Air", apart, followers=900_000 // PLAUSIBLE - 1).confidence is Confidence.AMBIGUOUS
    assert choose("Air", apart, followers=0).confidence is Confidence.AMBIGUOUS
    unusable = [artist(1, "Air", "9999999"), artist(2, "AIR", 10)]  # a fan count as a string is not a count
    assert choose("Air", unusable, followers=10_000_000).confidence is Confidence.AMBIGUOUS


def test_no_exact_match_is_none_and_says_so() -> None:
    match = choose("Daft Punk", [artist(1, "Daft Punk Tribute", 10), artist(2, "Daft", 5)])
    assert (match.confidence, match.artist, match.warning) == (Confidence.NONE, None, "no Deezer match for Daft Punk")
    assert choose("Daft Punk", []).warning == "no Deezer match for Daft Punk"
    assert choose("  ", [artist(1, "", 5), artist(2, "  ", 5)]).confidence is Confidence.NONE


def test_names_of_symbols_only_are_matched_as_written() -> None:
    assert [normalise_name(n) for n in ("!!!", "+/-", "🍓", " ！！！ ", "a  b", "  ")] == [
        "!!!",
        "+/-",
        "🍓",
        "!!!",
        "a b",
        "",
    ]
    candidates = [artist(5_330, "!!!", 61_408), artist(7, "!!!!", 3), artist(8, "Chk Chk Chk", 5)]
    match = choose("!!!", candidates)
    assert match.confidence is Confidence.UNIQUE and match.artist is not None and match.artist.id == 5_330
    strawberry = choose("🍓", [artist(158_801_447, "🍓", 143), artist(2, "🍒", 40)])
    assert strawberry.artist is not None and strawberry.artist.id == 158_801_447
    assert choose("+/-", [artist(1, "-/+", 5)]).warning == "no Deezer match for +/-"
