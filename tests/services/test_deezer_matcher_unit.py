"""The Deezer-id matcher's choice among search results (pure, no I/O)."""

from __future__ import annotations

from artist_desktop.services.deezer import DeezerArtist
from artist_desktop.services.deezer_matcher import best_match


def artist(deezer_id: int, name: str, nb_fan: object = 0) -> DeezerArtist:
    return DeezerArtist(id=deezer_id, name=name, nb_fan=nb_fan)


def test_exact_normalised_name_wins_over_a_more_popular_near_miss() -> None:
    candidates = [artist(1, "Beyoncé Tribute Band", 9_000_000), artist(2, "BEYONCE!", 30)]
    assert best_match("Beyoncé", candidates) == candidates[1]


def test_several_exact_matches_pick_the_most_fans() -> None:
    candidates = [artist(1, "Nirvana", 120), artist(2, "nirvana", 8_000_000), artist(3, "Nirvana", "9999999")]
    chosen = best_match("Nirvana", candidates)
    assert chosen is not None and chosen.id == 2


def test_equal_fans_keep_deezers_order() -> None:
    candidates = [artist(7, "Air", 50), artist(8, "AIR", 50)]
    chosen = best_match("Air", candidates)
    assert chosen is not None and chosen.id == 7


def test_no_exact_match_is_none_not_a_guess() -> None:
    assert best_match("Daft Punk", [artist(1, "Daft Punk Tribute", 10), artist(2, "Daft", 5)]) is None
    assert best_match("Daft Punk", []) is None
    assert best_match("  ", [artist(1, "", 5)]) is None
