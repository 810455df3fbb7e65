"""build_clients: the settings (here pointing at the API double) decide where every client goes."""

from __future__ import annotations

from artist_desktop import __version__
from artist_desktop.config import load_settings
from artist_desktop.devtools.api_double import DEEZER, MUSICBRAINZ, SPOTIFY, ApiDouble
from artist_desktop.services import MissingCredentialsError, build_clients


async def test_clients_built_from_the_doubles_settings_reach_the_double(double: ApiDouble) -> None:
    settings = load_settings(**double.urls.as_settings(), demo=True)
    async with build_clients(settings) as clients:
        page = await clients.spotify.search_artists("daft")
        daft = page.items[0]
        fans = await clients.deezer.search_artists(daft.name)
        facts = await clients.musicbrainz.artist_for_spotify_url(daft.url)
    assert daft.name == "Daft Punk"
    assert fans[0].name == "Daft Punk"
    assert facts is not None and facts.country == "FR"
    assert {s: double.request_count(s) > 0 for s in (SPOTIFY, DEEZER, MUSICBRAINZ)} == {
        SPOTIFY: True,
        DEEZER: True,
        MUSICBRAINZ: True,
    }
    assert double.last_user_agent(MUSICBRAINZ) == f"ArtistDesktop/{__version__} ( {settings.musicbrainz_contact} )"


async def test_without_spotify_credentials_only_spotify_complains(double: ApiDouble) -> None:
    settings = load_settings(**double.urls.as_settings(include_credentials=False))
    clients = build_clients(settings)
    try:
        try:
            await clients.spotify.search_artists("daft")
        except MissingCredentialsError as exc:
            assert "Settings" in str(exc)
        else:
            raise AssertionError("searching without credentials must fail")
        assert (await clients.deezer.search_artists("Queen"))[0].name == "Queen"
    finally:
        await clients.aclose()
