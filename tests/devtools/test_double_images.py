"""The double's image host: real deterministic PNGs in every size Spotify and Deezer hand out, with faults."""

from __future__ import annotations

import httpx

from artist_desktop.devtools._png import png_size
from artist_desktop.devtools.api_double import IMAGE_SIZES, IMAGES, ApiDouble


async def test_images_are_real_deterministic_pngs_with_injectable_faults(api_double: ApiDouble) -> None:
    artist = api_double.catalog.artists[0]
    images = api_double.urls.images_url
    url = f"{images}/{artist.spotify_id}-640.png"
    async with httpx.AsyncClient() as http:
        first, second = await http.get(url), await http.get(url)
        assert first.headers["content-type"] == "image/png"
        assert png_size(first.content) == (640, 640) and first.content == second.content
        other = await http.get(f"{images}/{api_double.catalog.artists[1].spotify_id}-640.png")
        assert other.content != first.content
        assert (await http.get(f"{images}/{artist.spotify_id}-641.png")).status_code == 404
        api_double.set_image_fault(artist.spotify_id, "not_image")
        broken = await http.get(url)
        assert broken.status_code == 200 and png_size(broken.content) is None
        api_double.set_image_fault(artist.spotify_id, "missing")
        assert (await http.get(url)).status_code == 404
        api_double.clear_faults()
        assert (await http.get(url)).content == first.content
    assert api_double.request_count(IMAGES) == 7


async def test_every_documented_size_is_drawn(api_double: ApiDouble) -> None:
    assert {56, 250, 500, 1000} <= IMAGE_SIZES  # Deezer's picture and cover sizes
    assert {640, 320, 300, 160, 64} <= IMAGE_SIZES  # Spotify's
    async with httpx.AsyncClient() as http:
        for size in sorted(IMAGE_SIZES):
            answer = await http.get(f"{api_double.urls.images_url}/dzalbum123-{size}.png")
            assert png_size(answer.content) == (size, size)


async def test_a_rate_limited_image_asks_for_a_days_pause_and_is_counted(api_double: ApiDouble) -> None:
    artist = api_double.catalog.artists[0]
    url = f"{api_double.urls.images_url}/{artist.spotify_id}-640.png"
    api_double.set_image_fault(artist.spotify_id, "rate_limited")
    async with httpx.AsyncClient() as http:
        refused = await http.get(url)
        other = await http.get(f"{api_double.urls.images_url}/{api_double.catalog.artists[1].spotify_id}-640.png")
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "86400")
    assert other.status_code == 200  # only that key's images
    assert api_double.rejections(IMAGES) == 1
