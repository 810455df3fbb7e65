"""What the API double tests share: a MusicBrainz-worthy User-Agent and a Spotify bearer header."""

from __future__ import annotations

import httpx

from artist_desktop.devtools.api_double import ApiDouble

UA = {"User-Agent": "ArtistDesktopTests/1.0 ( tests@example.org )"}


async def bearer(http: httpx.AsyncClient, double: ApiDouble) -> dict[str, str]:
    """An ``Authorization`` header with a fresh Client Credentials token from the double."""
    client_id, secret = double.demo_credentials
    answer = await http.post(
        f"{double.urls.spotify_accounts_url}/api/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
