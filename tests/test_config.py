"""Settings: defaults, environment, the settings file, and errors that name the setting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from artist_desktop.config import (
    NoKeyringError,
    SecretStore,
    SettingsError,
    load_settings,
    save_settings,
    settings_file,
    split_url_password,
    with_overrides,
    with_url_password,
)
from artist_desktop.store.database import normalise_url


def test_defaults_use_sqlite_in_the_data_dir(isolated_user_env: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == isolated_user_env
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{isolated_user_env}/artist-desktop.sqlite3"
    assert settings.redis_url == ""
    assert settings.concurrency == 4
    assert settings.sse_host == "127.0.0.1"
    assert settings.spotify_api_url == "https://api.spotify.com/v1"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIST_DESKTOP_CONCURRENCY", "9")
    monkeypatch.setenv("ARTIST_DESKTOP_DATABASE_URL", "postgresql://team@db.example/artists")
    monkeypatch.setenv("ARTIST_DESKTOP_DEEZER_API_URL", "http://127.0.0.1:9999/deezer/")
    settings = load_settings()
    assert settings.concurrency == 9
    assert settings.effective_database_url == "postgresql+asyncpg://team@db.example/artists"
    assert settings.deezer_api_url == "http://127.0.0.1:9999/deezer"


@pytest.mark.parametrize(
    "value", ["", "sqlite:////data/library.sqlite3", "postgresql+psycopg://team:pw@db.example/artists"]
)
def test_the_database_url_takes_its_driver_from_the_store(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ARTIST_DESKTOP_DATABASE_URL", value)
    settings = load_settings()
    given = value or f"sqlite:///{settings.database_path}"
    assert settings.effective_database_url == normalise_url(given).render_as_string(hide_password=False)
    assert settings.team_mode is value.startswith("postgresql")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CONCURRENCY", "-1", "between 1 and 64"),
        ("SPOTIFY_API_URL", "api.spotify.com", "http(s) URL"),
        ("REDIS_URL", "http://localhost", "redis://"),
        ("DATABASE_URL", "mysql://x@y/z", "sqlite or postgresql"),
        ("SSE_PORT", "70000", "0-65535"),
    ],
)
def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(f"ARTIST_DESKTOP_{name}", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert f"ARTIST_DESKTOP_{name}" in str(caught.value)
    assert expected in str(caught.value)


def test_settings_file_round_trip_and_env_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"concurrency": 7, "spotify_client_id": "abc", "spotify_client_secret": "s3cret"}
    with pytest.raises(NoKeyringError):  # no keyring here (ARTIST_DESKTOP_NO_KEYRING): never a silent file
        save_settings(values)
    assert not settings_file().exists()
    saved = save_settings(values, without_keyring=SecretStore.FILE)
    path = saved.path
    assert saved.secrets is SecretStore.FILE and "readable only by you" in saved.secrets.sentence(path)
    assert path == settings_file()
    assert path.stat().st_mode & 0o777 == 0o600
    settings = load_settings()
    assert settings.concurrency == 7
    assert settings.spotify_client_secret.get_secret_value() == "s3cret"
    assert settings.has_spotify_credentials
    monkeypatch.setenv("ARTIST_DESKTOP_CONCURRENCY", "2")
    assert load_settings().concurrency == 2


def test_a_secret_for_this_session_only_never_reaches_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARTIST_DESKTOP_SPOTIFY_CLIENT_SECRET", raising=False)
    saved = save_settings(
        {"spotify_client_id": "abc", "spotify_client_secret": "s3cret"}, without_keyring=SecretStore.SESSION
    )
    assert saved.secrets is SecretStore.SESSION
    assert "s3cret" not in saved.path.read_text(encoding="utf-8")
    assert load_settings().spotify_client_secret.get_secret_value() == "s3cret"  # this process still has it
    monkeypatch.delenv("ARTIST_DESKTOP_SPOTIFY_CLIENT_SECRET")
    assert not load_settings().has_spotify_credentials  # the next start asks again


def test_saving_a_bad_value_writes_nothing() -> None:
    with pytest.raises(SettingsError):
        save_settings({"concurrency": 0})
    assert not settings_file().exists()


def test_malformed_settings_file_is_a_clear_error() -> None:
    path = settings_file()
    path.parent.mkdir(parents=True)
    path.write_text("concurrency = = 3\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings()


def test_overrides_are_validated_and_keep_secrets_secret() -> None:
    settings = with_overrides(load_settings(), spotify_client_secret="s3cr3t-value", concurrency=3)
    assert settings.spotify_client_secret.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)
    assert settings.concurrency == 3
    with pytest.raises(SettingsError, match="concurrency"):
        with_overrides(settings, concurrency=0)


class _MemoryKeyring(KeyringBackend):
    """A keyring that lives in this test's memory."""

    priority = 1

    def __init__(self) -> None:  # keyring's own __init__ only reads properties from the environment
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[_MemoryKeyring]:
    monkeypatch.delenv("ARTIST_DESKTOP_NO_KEYRING")
    previous = keyring.get_keyring()
    backend = _MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


DATABASE_URL = "postgresql://artist:p%40ss:word@db.example:5432/artists"
REDIS_URL = "redis://:r3dis@cache.example:6379/2"


def test_url_passwords_go_to_the_keyring_and_come_back(memory_keyring: _MemoryKeyring) -> None:
    saved = save_settings({"database_url": DATABASE_URL, "redis_url": REDIS_URL})
    assert saved.secrets is SecretStore.KEYRING
    text = saved.path.read_text(encoding="utf-8")
    assert "p%40ss" not in text and "r3dis" not in text
    assert 'database_url = "postgresql://artist@db.example:5432/artists"' in text
    assert 'redis_url = "redis://cache.example:6379/2"' in text
    assert set(memory_keyring.entries.values()) == {"p%40ss:word", "r3dis"}
    settings = load_settings()
    assert settings.database_url == DATABASE_URL
    assert settings.redis_url == REDIS_URL

    # A URL saved again without a password: the keyring forgets the old one.
    save_settings({"database_url": "postgresql://artist@db.example:5432/artists"})
    assert load_settings().database_url == "postgresql://artist@db.example:5432/artists"
    assert set(memory_keyring.entries.values()) == {"r3dis"}


def test_url_passwords_without_a_keyring_follow_the_users_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NoKeyringError, match="database url's password"):
        save_settings({"database_url": DATABASE_URL})
    assert not settings_file().exists()

    monkeypatch.delenv("ARTIST_DESKTOP_DATABASE_URL", raising=False)
    saved = save_settings({"database_url": DATABASE_URL}, without_keyring=SecretStore.SESSION)
    assert saved.secrets is SecretStore.SESSION
    assert "p%40ss" not in saved.path.read_text(encoding="utf-8")
    assert load_settings().database_url == DATABASE_URL  # this process keeps it
    monkeypatch.delenv("ARTIST_DESKTOP_DATABASE_URL")
    assert load_settings().database_url == "postgresql://artist@db.example:5432/artists"  # the next start asks

    saved = save_settings({"database_url": DATABASE_URL}, without_keyring=SecretStore.FILE)
    assert saved.secrets is SecretStore.FILE
    assert DATABASE_URL in saved.path.read_text(encoding="utf-8")
    assert load_settings().database_url == DATABASE_URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://me:pw@db/app", ("postgresql://me@db/app", "pw")),
        ("redis://:pw@host:6379/0", ("redis://host:6379/0", "pw")),
        ("postgresql://me@db/app", ("postgresql://me@db/app", None)),
        ("sqlite+aiosqlite:///tmp/a:b@c.db", ("sqlite+aiosqlite:///tmp/a:b@c.db", None)),
        ("unix:///run/redis.sock", ("unix:///run/redis.sock", None)),
    ],
)
def test_a_url_password_splits_off_and_goes_back(url: str, expected: tuple[str, str | None]) -> None:
    assert split_url_password(url) == expected
    stripped, password = expected
    assert with_url_password(stripped, password) == url if password is not None else stripped == url
