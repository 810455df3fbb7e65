"""Settings: environment ``ARTIST_DESKTOP_*``, then the settings file, then defaults; secrets via keyring.

Precedence (highest first): explicit overrides (tests, ``--demo``), environment variables, the TOML
settings file in the user config dir, the OS keyring (secrets only), the defaults below.
A bad value raises :class:`SettingsError` naming the setting, e.g.
``ARTIST_DESKTOP_CONCURRENCY: must be between 1 and 64 (got -1)``.
"""

from __future__ import annotations

import contextlib
import datetime
import enum
import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from artist_desktop import APP_ID

log = logging.getLogger(__name__)

ENV_PREFIX = "ARTIST_DESKTOP_"
KEYRING_SERVICE = APP_ID
#: Settings kept in the OS keyring when entered in the dialog, never in the settings file.
SECRET_SETTINGS = ("spotify_client_secret", "sse_token", "lastfm_api_key", "listenbrainz_token")
#: URL settings whose password is kept like a secret (keyring entry ``<name>_password``); the settings file holds
#: the URL without it, and loading puts it back.
URL_PASSWORD_SETTINGS = ("database_url", "redis_url")


class SettingsError(ValueError):
    """A setting has a value the app cannot use; the message names the setting."""


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_ID, appauthor=False))


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_ID, appauthor=False))


def settings_file() -> Path:
    """The TOML settings file; ``ARTIST_DESKTOP_SETTINGS_FILE`` points elsewhere (tests, teams)."""
    override = os.environ.get(f"{ENV_PREFIX}SETTINGS_FILE")
    return Path(override) if override else config_dir() / "settings.toml"


def _check_http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as https://example.com (got {value!r})")
    return value.rstrip("/")


class Settings(BaseSettings):
    """Every setting of DESIGN.md. Field names are the env names without the prefix, lower-cased."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        validate_default=True,
        frozen=True,
    )

    database_url: str = Field("", description="SQLAlchemy URL; empty: SQLite in the data dir")
    redis_url: str = Field("", description="redis:// or unix:// URL; empty: a private redis-server")
    redis_prefix: str = Field("artist-desktop:", description="Key and channel prefix on Redis")
    spotify_client_id: str = ""
    spotify_client_secret: SecretStr = SecretStr("")
    spotify_api_url: str = "https://api.spotify.com/v1"
    spotify_accounts_url: str = "https://accounts.spotify.com"
    deezer_api_url: str = "https://api.deezer.com"
    musicbrainz_api_url: str = "https://musicbrainz.org/ws/2"
    contact: str = Field(
        "",
        description="Your e-mail or URL, sent in the User-Agent to MusicBrainz, Wikimedia and Last.fm (they block "
        "generic ones; never a placeholder). Empty: MusicBrainz and Wikipedia are skipped, and the window asks",
    )
    lastfm_api_url: str = "https://ws.audioscrobbler.com"
    lastfm_api_key: SecretStr = Field(
        SecretStr(""), description="Last.fm API key (free at last.fm/api/account/create); empty: Last.fm is skipped"
    )
    listenbrainz_api_url: str = "https://api.listenbrainz.org"
    listenbrainz_token: SecretStr = Field(
        SecretStr(""), description="ListenBrainz user token (optional today; asked for when ListenBrainz answers 401)"
    )
    wikidata_api_url: str = "https://www.wikidata.org"
    wikimedia_api_url: str = "https://wikimedia.org"
    sse_host: str = "127.0.0.1"
    sse_port: int = 8765
    sse_token: SecretStr = SecretStr("")
    sse_cors_origins: list[str] = Field(default_factory=list)
    sse_max_connections: int = Field(
        0,
        description="Connections the progress stream keeps open at most (0: the process's file limit less 200; a "
        "lower number lowers it, never above that); the excess is answered 503",
    )
    concurrency: int = Field(
        4,
        description="Requests to one service host at once, per process. The imports in flight are many more (up "
        "to 100, a full MusicBrainz batch: they wait on the hosts' quotas and share lookups); in team mode "
        "(PostgreSQL) a worker takes this many artists at a time, so that the team's workers share the queue",
    )
    job_timeout: float = Field(
        60.0, description="Seconds without a heartbeat after which another worker takes over a running import"
    )
    local_worker: bool | None = Field(
        None, description="Run imports in this process; default: yes, except in team mode (PostgreSQL)"
    )
    worker_name: str = Field("", description="This machine's name among the team's workers; default: host:pid")
    musicbrainz_rate: float = Field(
        1.0, description="MusicBrainz requests per second (its documented quota; raise it for your own mirror)"
    )
    connect_timeout: float = Field(
        5.0, description="Seconds to wait for the database or Redis to answer a new connection before saying so"
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    demo: bool = Field(False, description="Use the bundled API double and sample catalog")
    collect_daily: bool = Field(
        True,
        description="Collect the metrics once a day (the window and `serve` run the schedule; Deezer needs no "
        "account, so on by default)",
    )
    collect_at: str = Field("06:00", description="When the daily collection runs, HH:MM local time")
    alert_threshold: float = Field(
        4.0, description="How unusual a daily change must be to alert: its robust z-score against the last 28 days"
    )
    alert_min_change_percent: float = Field(
        2.0, description="The smallest daily change, in % of the figure, that may alert (small artists' noise)"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _TomlWithUrlPasswords(settings_cls, toml_file=settings_file()),
            _KeyringSource(settings_cls),
        )

    @field_validator("spotify_api_url", "spotify_accounts_url", "deezer_api_url", "musicbrainz_api_url")
    @classmethod
    def _http_url(cls, value: str, info: Any) -> str:
        return _check_http_url(info.field_name, value)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"must be a redis://, rediss:// or unix:// URL, or empty (got {value!r})")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value:
            return value
        from sqlalchemy.exc import ArgumentError

        from artist_desktop.store.database import normalise_url

        try:
            normalise_url(value)  # a ValueError names an unsupported backend
        except ArgumentError as exc:
            raise ValueError(f"is not a database URL ({exc})") from None
        return value

    @field_validator("concurrency")
    @classmethod
    def _concurrency(cls, value: int) -> int:
        if not 1 <= value <= 64:
            raise ValueError(f"must be between 1 and 64 (got {value})")
        return value

    @field_validator("job_timeout")
    @classmethod
    def _job_timeout(cls, value: float) -> float:
        if not 2 <= value <= 86400:
            raise ValueError(f"must be between 2 and 86400 seconds (got {value:g})")
        return value

    @field_validator("connect_timeout")
    @classmethod
    def _connect_timeout(cls, value: float) -> float:
        if not 0.1 <= value <= 300:
            raise ValueError(f"must be between 0.1 and 300 seconds (got {value:g})")
        return value

    @field_validator("musicbrainz_rate")
    @classmethod
    def _musicbrainz_rate(cls, value: float) -> float:
        if not 0 < value <= 1000:
            raise ValueError(f"must be more than 0 and at most 1000 requests per second (got {value:g})")
        return value

    @field_validator("collect_at")
    @classmethod
    def _collect_at(cls, value: str) -> str:
        hours, sep, minutes = value.strip().partition(":")
        if not (sep and hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError(f"must be a time of day as HH:MM, such as 06:00 (got {value!r})")
        return f"{int(hours):02d}:{int(minutes):02d}"

    @field_validator("alert_threshold")
    @classmethod
    def _alert_threshold(cls, value: float) -> float:
        if not 1 <= value <= 100:
            raise ValueError(f"must be between 1 and 100 (got {value:g})")
        return value

    @field_validator("alert_min_change_percent")
    @classmethod
    def _alert_min_change(cls, value: float) -> float:
        if not 0 <= value <= 1000:
            raise ValueError(f"must be between 0 and 1000 percent (got {value:g})")
        return value

    @field_validator("sse_max_connections")
    @classmethod
    def _max_connections(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"must be 0 (automatic) or a number of connections (got {value})")
        return value

    @field_validator("sse_port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError(f"must be a TCP port 0-65535 (got {value})")
        return value

    @property
    def collect_time(self) -> datetime.time:
        """``collect_at`` as a local time of day."""
        hours, minutes = self.collect_at.split(":")
        return datetime.time(int(hours), int(minutes))

    @property
    def database_path(self) -> Path:
        return self.data_dir / "artist-desktop.sqlite3"

    @property
    def effective_database_url(self) -> str:
        """The URL to connect to, with the driver :func:`~artist_desktop.store.database.normalise_url` picks."""
        from sqlalchemy.engine import URL

        from artist_desktop.store.database import normalise_url

        url = self.database_url or URL.create("sqlite", database=str(self.database_path))
        return normalise_url(url).render_as_string(hide_password=False)

    @property
    def team_mode(self) -> bool:
        """A shared PostgreSQL ledger: other machines' workers may run the imports."""
        return self.effective_database_url.startswith("postgresql")

    @property
    def runs_local_worker(self) -> bool:
        return self.local_worker if self.local_worker is not None else not self.team_mode

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def has_spotify_credentials(self) -> bool:
        return bool(self.spotify_client_id and self.spotify_client_secret.get_secret_value())


def split_url_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password, and the password as written (None when it has none):
    ``postgresql://me:pw@db/app`` -> (``postgresql://me@db/app``, ``pw``); ``redis://:pw@host`` -> ``redis://host``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None
    authority, slash, tail = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return url, None
    user, _, password = userinfo.partition(":")
    return f"{scheme}://{user + '@' if user else ''}{host}{slash}{tail}", password


def with_url_password(url: str, password: str) -> str:
    """``url`` with ``password`` put back (a URL that has a password already is left as it is)."""
    scheme, sep, rest = url.partition("://")
    if not sep or split_url_password(url)[1] is not None:
        return url
    authority, slash, tail = rest.partition("/")
    user, at, host = authority.rpartition("@")
    return f"{scheme}://{user}:{password}@{host if at else authority}{slash}{tail}"


def _password_entry(name: str) -> str:
    return f"{name}_password"


class _TomlWithUrlPasswords(TomlConfigSettingsSource):
    """The settings file, its database and Redis URLs given back the passwords the keyring keeps for them."""

    def __call__(self) -> dict[str, Any]:
        values = super().__call__()
        for name in URL_PASSWORD_SETTINGS:
            url = values.get(name)
            if isinstance(url, str) and url and split_url_password(url)[1] is None:
                password = read_secret(_password_entry(name))
                if password:
                    values[name] = with_url_password(url, password)
        return values


class _KeyringSource(PydanticBaseSettingsSource):
    """Secrets from the OS keyring, when a usable backend exists (never an error when none does)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in SECRET_SETTINGS:
            secret = read_secret(name)
            if secret:
                values[name] = secret
        return values


def _keyring_usable() -> bool:
    if os.environ.get(f"{ENV_PREFIX}NO_KEYRING"):
        return False
    try:
        import keyring
        from keyring.backends import fail

        return not isinstance(keyring.get_keyring(), fail.Keyring)
    except Exception:  # a broken keyring backend must never stop the app
        return False


def read_secret(name: str) -> str | None:
    if not _keyring_usable():
        return None
    try:
        import keyring

        value: str | None = keyring.get_password(KEYRING_SERVICE, name)
        return value
    except Exception as exc:
        log.warning("Could not read %s from the keyring: %s", name, exc)
        return None


def store_secret(name: str, value: str) -> bool:
    """Keep a secret in the OS keyring; False when there is no usable keyring."""
    if not _keyring_usable():
        return False
    import keyring

    try:
        if value:
            keyring.set_password(KEYRING_SERVICE, name, value)
        else:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(KEYRING_SERVICE, name)
    except Exception as exc:
        log.warning("Could not write %s to the keyring: %s", name, exc)
        return False
    return True


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one :class:`SettingsError` naming each setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        in_file = _settings_file_keys()
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            message = error["msg"].removeprefix("Value error, ")
            env_name = f"{ENV_PREFIX}{name.upper()}"
            if env_name not in os.environ and name in in_file and name not in overrides:
                problems.append(f"{name} in {settings_file()}: {message}")
            else:
                problems.append(f"{env_name}: {message}")
        raise SettingsError("Invalid settings:\n  " + "\n  ".join(problems)) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"The settings file {settings_file()} is not valid TOML: {exc}") from None


def _settings_file_keys() -> set[str]:
    """The names the settings file sets (to say where a bad value came from); empty when it cannot be read."""
    try:
        return set(tomllib.loads(settings_file().read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError):
        return set()


def with_overrides(settings: Settings, **values: Any) -> Settings:
    """A copy of `settings` with some values replaced, validated like any other value (secrets stay secret)."""
    try:
        return Settings.model_validate({**settings.model_dump(), **values})
    except ValidationError as exc:
        raise SettingsError(f"Invalid settings: {exc}") from None


class SecretStore(enum.StrEnum):
    """Where a saved secret went: the OS keyring; the settings file (0600) when the user chose it because no
    keyring exists; or this process's environment only ("this session": gone when the app stops)."""

    KEYRING = "keyring"
    FILE = "file"
    SESSION = "session"

    def sentence(self, path: Path) -> str:
        """How the settings dialog says where the secret is."""
        if self is SecretStore.KEYRING:
            return "the secret is in the system keyring"
        if self is SecretStore.FILE:
            return f"the secret is in {path} (readable only by you)"
        return "the secret is kept for this session only: enter it again after the app stops"


class NoKeyringError(SettingsError):
    """A secret is to be saved and the system has no keyring: the caller must choose `SecretStore.FILE` or
    `SecretStore.SESSION` (the app never writes a secret to a file without being told to)."""


@dataclass(frozen=True, slots=True)
class SavedSettings:
    """Where `save_settings` wrote: the settings file, and where the secrets went (None: no secret saved)."""

    path: Path
    secrets: SecretStore | None


def save_settings(values: dict[str, Any], *, without_keyring: SecretStore | None = None) -> SavedSettings:
    """Write the non-secret settings to the settings file and secrets to the OS keyring (the password of a
    database or Redis URL too: the file keeps the URL without it).

    With no keyring, a non-empty secret raises `NoKeyringError` unless ``without_keyring`` says where it goes:
    `SecretStore.FILE` (the settings file, mode 0600) or `SecretStore.SESSION` (this process's environment
    only, which a restart started from this process inherits). A secret is never logged.
    """
    path = settings_file()
    current: dict[str, Any] = {}
    if path.exists():
        current = tomllib.loads(path.read_text(encoding="utf-8"))
    secrets: SecretStore | None = None
    for key, value in values.items():
        if key in URL_PASSWORD_SETTINGS and isinstance(value, str):
            url, password = split_url_password(value)
            if password is None:
                store_secret(_password_entry(key), "")  # no password any more: the keyring forgets the old one
            elif store_secret(_password_entry(key), password):
                value, secrets = url, SecretStore.KEYRING
            elif without_keyring is None:
                raise NoKeyringError(f"There is no system keyring to keep the {key.replace('_', ' ')}'s password in.")
            else:
                secrets = without_keyring
                if without_keyring is SecretStore.SESSION:
                    os.environ[f"{ENV_PREFIX}{key.upper()}"] = value
                    value = url
        if key in SECRET_SETTINGS and value not in (None, ""):
            if store_secret(key, str(value)):
                current.pop(key, None)
                secrets = SecretStore.KEYRING
                continue
            if without_keyring is None:
                raise NoKeyringError(f"There is no system keyring to keep the {key.replace('_', ' ')} in.")
            secrets = without_keyring
            if without_keyring is SecretStore.SESSION:
                os.environ[f"{ENV_PREFIX}{key.upper()}"] = str(value)
                current.pop(key, None)
                continue
        if value is None or value == "":
            current.pop(key, None)
        else:
            current[key] = str(value) if isinstance(value, Path) else value
    # Validate before writing so a bad value never lands on disk.
    load_settings(**{k: v for k, v in current.items() if k in Settings.model_fields})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump_toml(current), encoding="utf-8")
    path.chmod(0o600)
    return SavedSettings(path, secrets)


def _dump_toml(values: dict[str, Any]) -> str:
    import json

    lines = []
    for key, value in sorted(values.items()):
        if isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, int | float):
            rendered = str(value)
        elif isinstance(value, list):
            rendered = "[" + ", ".join(json.dumps(str(v)) for v in value) + "]"
        else:
            rendered = json.dumps(str(value))  # a JSON string is a valid TOML basic string
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n"
