"""Artist Desktop: batch-import artists, watch live progress, refresh Deezer fan counts."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("artist-desktop")
except PackageNotFoundError:  # running from a bundle or an uninstalled checkout
    __version__ = "0.1.0"

APP_NAME = "Artist Desktop"
APP_ID = "artist-desktop"

__all__ = ["APP_ID", "APP_NAME", "__version__"]
