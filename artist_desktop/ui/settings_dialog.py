"""The settings dialog (Ctrl+,) with inline validation and a "Test connection" button per service,
and the first-run prompt offering credentials or demo mode.

Spotify's test shows `connection_checks.check_spotify`'s report as it comes, one fact per line: the app's
mode (Development or Extended), whether its owner has Premium, the quota state, and removed endpoints.
Last.fm's test looks one artist up with the typed key (`connection_checks.check_lastfm`). The contact (an
e-mail or URL) goes into the User-Agent of MusicBrainz, Wikimedia and Last.fm, which block generic ones."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from artist_desktop import connection_checks
from artist_desktop.config import (
    NoKeyringError,
    SecretStore,
    Settings,
    SettingsError,
    load_settings,
    save_settings,
    settings_file,
)
from artist_desktop.ui.palette import ERROR_COLOR, SUCCESS_COLOR
from artist_desktop.ui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from artist_desktop.ui.tasks import TaskRunner

SECRET_KEPT = "Leave empty to keep the saved secret"
CONTACT_HINT = "your e-mail or URL: MusicBrainz, Wikimedia and Last.fm block generic User-Agents"
#: The secrets the form edits, setting name -> what a person calls it (the no-keyring question names them).
SECRET_FIELDS = {
    "spotify_client_secret": "Spotify client secret",
    "lastfm_api_key": "Last.fm API key",
    "listenbrainz_token": "ListenBrainz token",
}

Check = Callable[[Settings], Coroutine[Any, Any, str]]


class SettingsDialog(QDialog):
    """Edits the settings file (secrets go to the keyring); changes apply on the next start."""

    def __init__(self, settings: Settings, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)
        self._settings = settings
        self._tasks = tasks
        #: What the window says once saved (where the secret went, when one was saved).
        self.saved_note = "Settings saved: they apply when the app starts again"
        #: The "no system keyring" question while it is open.
        self.secret_box: QMessageBox | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.client_id = QLineEdit(settings.spotify_client_id, self)
        self.client_id.setObjectName("spotify_client_id")
        self.client_secret = QLineEdit(self)
        self.client_secret.setObjectName("spotify_client_secret")
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        if settings.spotify_client_secret.get_secret_value():
            self.client_secret.setPlaceholderText(SECRET_KEPT)
        self.contact = QLineEdit(settings.contact, self)
        self.contact.setObjectName("contact")
        self.contact.setPlaceholderText(CONTACT_HINT)
        self.contact.setToolTip(CONTACT_HINT)
        contact_hint = QLabel(CONTACT_HINT[0].upper() + CONTACT_HINT[1:], self)
        contact_hint.setObjectName("contact_hint")
        contact_hint.setWordWrap(True)
        contact_hint.setEnabled(False)
        self.lastfm_api_key = self._secret_field(
            "lastfm_api_key", bool(settings.lastfm_api_key.get_secret_value()), "Free at last.fm/api/account/create"
        )
        self.listenbrainz_token = self._secret_field(
            "listenbrainz_token", bool(settings.listenbrainz_token.get_secret_value()), "Optional"
        )
        self.database_url = QLineEdit(settings.database_url, self)
        self.database_url.setObjectName("database_url")
        self.database_url.setPlaceholderText(f"Empty: SQLite at {settings.database_path}")
        self.redis_url = QLineEdit(settings.redis_url, self)
        self.redis_url.setObjectName("redis_url")
        self.redis_url.setPlaceholderText("Empty: the app runs its own redis-server")
        self.concurrency = QSpinBox(self)
        self.concurrency.setObjectName("concurrency")
        self.concurrency.setRange(0, 999)  # the settings say what is allowed, with a message
        self.concurrency.setValue(settings.concurrency)
        self.sse_port = QSpinBox(self)
        self.sse_port.setObjectName("sse_port")
        self.sse_port.setRange(0, 65535)
        self.sse_port.setValue(settings.sse_port)
        self.results: dict[str, QLabel] = {}
        form.addRow("Spotify client id", self.client_id)
        form.addRow("Spotify client secret", self.client_secret)
        form.addRow("", self._test_row("spotify", connection_checks.check_spotify))
        form.addRow("Contact", self.contact)
        form.addRow("", contact_hint)
        form.addRow("Last.fm API key", self.lastfm_api_key)
        form.addRow("", self._test_row("lastfm", connection_checks.check_lastfm))
        form.addRow("ListenBrainz token", self.listenbrainz_token)
        form.addRow("Database URL", self.database_url)
        form.addRow("", self._test_row("database", connection_checks.check_database))
        form.addRow("Redis URL", self.redis_url)
        form.addRow("", self._test_row("redis", connection_checks.check_redis))
        form.addRow("Concurrent imports", self.concurrency)
        form.addRow("SSE port", self.sse_port)
        layout.addLayout(form)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("settings_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        note = QLabel(
            f"Saved to {settings_file()}; secrets go to the OS keyring when one is available. "
            "Changes apply when the app starts again.",
            self,
        )
        note.setWordWrap(True)
        note.setEnabled(False)
        layout.addWidget(note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        for field in (
            self.client_id,
            self.client_secret,
            self.contact,
            self.lastfm_api_key,
            self.listenbrainz_token,
            self.database_url,
            self.redis_url,
        ):
            field.textEdited.connect(lambda _text: self.error_label.setVisible(False))

    def _secret_field(self, name: str, saved: bool, empty_hint: str) -> QLineEdit:
        """A password field for the secret setting ``name``; with one saved, empty keeps it."""
        field = QLineEdit(self)
        field.setObjectName(name)
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setPlaceholderText(SECRET_KEPT if saved else empty_hint)
        return field

    def _secret_inputs(self) -> dict[str, QLineEdit]:
        return {
            "spotify_client_secret": self.client_secret,
            "lastfm_api_key": self.lastfm_api_key,
            "listenbrainz_token": self.listenbrainz_token,
        }

    def _test_row(self, name: str, check: Check) -> QWidget:
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        button = QPushButton("Test connection", row)
        button.setObjectName(f"test_{name}")
        result = QLabel(row)
        result.setObjectName(f"test_{name}_result")
        result.setWordWrap(True)
        result.setTextFormat(Qt.TextFormat.PlainText)
        result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.results[name] = result
        button.clicked.connect(lambda: self.test(name, check))
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(result, 1)
        return row

    def values(self) -> dict[str, Any]:
        """What the form says, as settings values (an empty secret field keeps the saved secret)."""
        values: dict[str, Any] = {
            "spotify_client_id": self.client_id.text().strip(),
            "contact": self.contact.text().strip(),
            "database_url": self.database_url.text().strip(),
            "redis_url": self.redis_url.text().strip(),
            "concurrency": self.concurrency.value(),
            "sse_port": self.sse_port.value(),
        }
        for name, field in self._secret_inputs().items():
            if field.text().strip():
                values[name] = field.text().strip()
        return values

    def validated(self) -> Settings | None:
        """The settings the form describes, or None with the problem shown inline."""
        values = self.values()
        for name in self._secret_inputs():
            if name not in values:
                values[name] = getattr(self._settings, name).get_secret_value()
        try:
            settings = load_settings(**values)
        except SettingsError as exc:
            self.show_error(str(exc))
            return None
        self.error_label.setVisible(False)
        return settings

    def show_error(self, text: str) -> None:
        self.error_label.setText(text.replace("Invalid settings:\n  ", "").replace("ARTIST_DESKTOP_", ""))
        self.error_label.setVisible(True)

    def test(self, name: str, check: Check) -> None:
        settings = self.validated()
        if settings is None:
            return
        label = self.results[name]
        label.setStyleSheet("")
        label.setText("Testing…")
        self._tasks.run(
            check(settings),
            lambda message: self._show_result(label, message, ok=True),
            lambda error: self._show_result(label, str(error), ok=False),
            name=f"test-{name}",
            replace=True,
        )

    def _show_result(self, label: QLabel, text: str, *, ok: bool) -> None:
        """One line in green (or red); a report of several lines (Spotify's) in the text colour, since
        it may say "quota used up" or "Premium missing" while the connection itself works."""
        label.setText(("✓ " if ok else "✕ ") + text.strip())
        several = "\n" in text.strip()
        label.setStyleSheet("" if ok and several else f"color: {(SUCCESS_COLOR if ok else ERROR_COLOR).name()};")

    def save(self, without_keyring: SecretStore | None = None) -> None:
        """Save; with no system keyring and a secret to keep, ask where it goes first (`ask_secret_store`)."""
        if self.validated() is None:
            return
        try:
            saved = save_settings(self.values(), without_keyring=without_keyring)
        except NoKeyringError:
            self.ask_secret_store()
            return
        except (SettingsError, OSError) as exc:
            self.show_error(str(exc))
            return
        self.saved_note = "Settings saved: they apply when the app starts again" + (
            f"; {saved.secrets.sentence(saved.path)}" if saved.secrets is not None else ""
        )
        self.accept()

    def _typed_secrets(self) -> str:
        """The secrets typed in the form, named for people ("Last.fm API key"); the Spotify secret by default."""
        typed = [SECRET_FIELDS[name] for name, field in self._secret_inputs().items() if field.text().strip()]
        return _joined(typed or [SECRET_FIELDS["spotify_client_secret"]])

    def ask_secret_store(self) -> QMessageBox:
        """No system keyring: keep the secret in the settings file (readable only by you) or for this session."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "No system keyring",
            f"This system has no keyring to keep the {self._typed_secrets()} in.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("no_keyring")
        box.setInformativeText(
            f"Store it in {settings_file()}, readable only by you, or keep it for this session only "
            "(you enter it again after the app stops)."
        )
        in_file = box.addButton("Store in the settings file", QMessageBox.ButtonRole.AcceptRole)
        in_file.setObjectName("secret_in_file")
        session = box.addButton("This session only", QMessageBox.ButtonRole.ActionRole)
        session.setObjectName("secret_for_session")

        def chosen(button: Any) -> None:
            if button is in_file:
                self.save(SecretStore.FILE)
            elif button is session:
                self.save(SecretStore.SESSION)

        box.buttonClicked.connect(chosen)
        box.open()
        self.secret_box = box
        return box


def _joined(names: list[str]) -> str:
    """Names joined for a sentence: "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def offer_first_run(
    parent: QWidget, open_settings: Callable[[], object], try_demo: Callable[[], object]
) -> QMessageBox:
    """No Spotify credentials and not in demo mode: enter them, or try the demo (`try_demo` restarts the app)."""
    box = QMessageBox(parent)
    box.setObjectName("first_run")
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Welcome to Artist Desktop")
    box.setText("Artist Desktop needs a Spotify client id and secret to search and import artists.")
    box.setInformativeText(
        "Enter the credentials of your Spotify app, or try demo mode with a bundled sample catalog "
        "(no account needed; the app restarts in demo mode)."
    )
    enter = box.addButton("Enter credentials…", QMessageBox.ButtonRole.AcceptRole)
    demo = box.addButton("Try demo mode", QMessageBox.ButtonRole.ActionRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    enter.setObjectName("enter_credentials")
    demo.setObjectName("try_demo")

    def chosen(button: Any) -> None:
        if button is enter:
            open_settings()
        elif button is demo:
            try_demo()

    box.buttonClicked.connect(chosen)
    box.open()
    return box


def offer_contact(parent: QWidget, open_settings: Callable[[], object]) -> QMessageBox:
    """No contact set: MusicBrainz and Wikimedia want to know who runs the app (they block anonymous clients and
    ask for the operator's e-mail or URL in the User-Agent, ``../shared/api-facts.md``): enter it, or later."""
    box = QMessageBox(parent)
    box.setObjectName("ask_contact")
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Who runs this app?")
    box.setText("MusicBrainz and Wikipedia ask every app for its operator's e-mail or web address.")
    box.setInformativeText(
        "Until you enter yours, imports skip MusicBrainz (country, gender, life-span) and the metrics refresh "
        "skips Wikipedia pageviews. It is sent only to those services, in the User-Agent of each request."
    )
    enter = box.addButton("Enter contact…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    enter.setObjectName("enter_contact")
    box.buttonClicked.connect(lambda button: open_settings() if button is enter else None)
    box.open()
    return box
