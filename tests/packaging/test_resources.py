"""The resource-path helper: a bundle's own files and programs win; a checkout falls back to its tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from artist_desktop.resources import bundle_dir, bundled_binary, resource_path


def test_a_checkout_has_no_bundled_programs_and_finds_its_resources() -> None:
    assert bundle_dir() is None
    assert bundled_binary("redis-server") is None  # so the embedded Redis looks on PATH
    assert resource_path("icons", "artist-desktop.png").read_bytes().startswith(b"\x89PNG")


def test_a_bundle_finds_its_own_redis_server_and_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = tmp_path / "bin" / "redis-server"
    server.parent.mkdir()
    server.write_text("#!/bin/sh\n")
    server.chmod(0o755)
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "catalog.json").write_text("{}")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)

    assert bundled_binary("redis-server") == server
    assert bundled_binary("redis-cli") is None
    assert resource_path("catalog.json") == tmp_path / "resources" / "catalog.json"
    server.chmod(0o644)  # a bundle whose copy lost its execute bit: fall back to PATH rather than fail
    assert bundled_binary("redis-server") is None
