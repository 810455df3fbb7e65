"""Tests of the progress bus and the embedded redis-server."""
