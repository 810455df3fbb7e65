"""`python -m artist_desktop` is the `artist-desktop` command."""

from artist_desktop.cli import main

main()
