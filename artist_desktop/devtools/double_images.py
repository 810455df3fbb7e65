"""The API double's image host: real PNG artwork for the picture and cover URLs the other services hand out.

``GET /images/{key}-{size}.png`` answers a ``size`` x ``size`` PNG drawn from ``key`` (the same bytes every
time). ``key`` is a Spotify artist or album id, ``dz<Deezer artist id>`` or ``dzalbum<Deezer album id>``;
``size`` one of :data:`IMAGE_SIZES`, anything else 404. Per-key faults (:meth:`ImagesDouble.set_fault`):
``"missing"`` (404), ``"not_image"`` (200 ``text/html``) or ``"rate_limited"`` (429 with ``Retry-After`` of
:data:`IMAGE_RETRY_AFTER` s by default: a host that wants a day's pause; counted in ``rejections("images")``).
"""

from __future__ import annotations

import re
from typing import Literal

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._png import artwork_png
from artist_desktop.devtools.double_core import IMAGES, PREFIXES, DoubleCore, base_url, retry_after_header

#: Sizes the image route draws (Spotify 640/320/300/160/64, Deezer 56/250/500/1000).
IMAGE_SIZES = frozenset({56, 64, 160, 250, 300, 320, 500, 640, 1000})
IMAGE_NAME = re.compile(r"^(?P<key>[A-Za-z0-9_]+)-(?P<size>\d+)\.png$")

ImageFault = Literal["missing", "not_image", "rate_limited"]
IMAGE_FAULTS: tuple[ImageFault, ...] = ("missing", "not_image", "rate_limited")
#: The Retry-After of a ``"rate_limited"`` image unless :meth:`ImagesDouble.set_fault` says otherwise: a day.
IMAGE_RETRY_AFTER = 86_400.0


def image_url(request: Request, key: str, size: int) -> str:
    """The URL of ``key``'s artwork at ``size`` pixels on this double (``size`` must be in IMAGE_SIZES)."""
    if size not in IMAGE_SIZES:
        raise ValueError(f"the image route draws no {size} px images")
    return f"{base_url(request)}{PREFIXES[IMAGES]}/{key}-{size}.png"


class ImagesDouble:
    """The image route and its per-key faults."""

    def __init__(self, core: DoubleCore) -> None:
        self._core = core
        self._faults: dict[str, ImageFault] = {}
        self._retry_after: dict[str, float] = {}

    def routes(self) -> list[Route]:
        return [Route(f"{PREFIXES[IMAGES]}/{{name}}", self._image)]

    def set_fault(self, key: str, kind: ImageFault, *, retry_after: float = IMAGE_RETRY_AFTER) -> None:
        """Images of ``key``: "missing" (404), "not_image" (200 text/html) or "rate_limited" (429 asking for
        ``retry_after`` seconds)."""
        if kind not in IMAGE_FAULTS:
            raise ValueError(f"image fault must be one of {', '.join(map(repr, IMAGE_FAULTS))} (got {kind!r})")
        with self._core.lock:
            self._faults[key] = kind
            self._retry_after[key] = retry_after

    def clear_faults(self) -> None:
        with self._core.lock:
            self._faults.clear()
            self._retry_after.clear()

    async def _image(self, request: Request) -> Response:
        name = request.path_params["name"]
        match = IMAGE_NAME.match(name)
        key = match["key"] if match else name

        async def answer() -> Response:
            if match is None or int(match["size"]) not in IMAGE_SIZES:
                return PlainTextResponse("Not Found", 404)
            with self._core.lock:
                fault = self._faults.get(key)
                retry_after = self._retry_after.get(key, IMAGE_RETRY_AFTER)
            if fault == "rate_limited":
                self._core.count_rejection(IMAGES)
                return PlainTextResponse("Too Many Requests", 429, headers=retry_after_header(retry_after))
            if fault == "missing":
                return PlainTextResponse("Not Found", 404)
            if fault == "not_image":
                return Response("<html><body>Image moved</body></html>", media_type="text/html")
            return Response(
                artwork_png(key, int(match["size"])),
                media_type="image/png",
                headers={"Cache-Control": "public, max-age=86400"},
            )

        return await self._core.serve(IMAGES, request, (key,), answer)


__all__ = ["IMAGE_FAULTS", "IMAGE_NAME", "IMAGE_RETRY_AFTER", "IMAGE_SIZES", "ImageFault", "ImagesDouble", "image_url"]
