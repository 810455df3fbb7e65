"""Every keyboard shortcut of the app in one table, checked for clashes before the first action is made.

Each `Shortcut` names its action (the QAction's objectName), its menu text, its keys and where it listens
(`Scope`). Widgets never write a key themselves: they ask `make_action(action_id, parent)` for a QAction
that carries the text, keys and context from here, and Help → Keyboard shortcuts lists this table.

Keys are strings in Qt's portable form ("Ctrl+Shift+R") or `QKeySequence.StandardKey`s, which the running
platform resolves (`QKeySequence.keyBindings`): Refresh is F5 on Windows and KDE but Ctrl+R and F5 on
GNOME, ⌘R on macOS. Two actions that listen at the same time on one key make Qt fire neither (an
"ambiguous shortcut"), so `check_shortcuts` compares the keys as resolved on this platform and the first
`make_action` refuses to build a window from a table with a clash.

Errors::

    ShortcutError (ValueError)     the table cannot be used as written: an unknown or repeated action id,
     │                             or an action with no key on this platform
     └── ShortcutClashError        one key bound to two actions that listen at the same time
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from artist_desktop.ui.qt import QAction, QKeySequence, QObject, Qt

StandardKey = QKeySequence.StandardKey
#: A key as written in the table: portable text ("Ctrl+R") or a platform standard key.
Key = str | QKeySequence.StandardKey
#: How standard keys become key sequences (the running platform's `QKeySequence.keyBindings`).
Resolver = Callable[[QKeySequence.StandardKey], Sequence[QKeySequence]]


class ShortcutError(ValueError):
    """The shortcut table cannot be used as written."""


class ShortcutClashError(ShortcutError):
    """One key sequence is bound to two actions that listen at the same time (Qt would fire neither)."""


class Scope(Enum):
    """Where a shortcut listens. Two shortcuts clash when they can listen at the same time: in one window,
    unless both listen only in two different widgets of it."""

    WINDOW = "main window"
    SEARCH_RESULTS = "search results list"
    SELECTION_QUEUE = "selection queue"
    IMPORT_IDS_DIALOG = "Import ids dialog"

    @property
    def window(self) -> str:
        """The top-level window the shortcut lives in (dialogs are windows of their own)."""
        return "Import ids dialog" if self is Scope.IMPORT_IDS_DIALOG else "main window"

    @property
    def widget_only(self) -> bool:
        """Listens only while one widget has the focus (Qt.WidgetShortcut)."""
        return self in (Scope.SEARCH_RESULTS, Scope.SELECTION_QUEUE)

    def overlaps(self, other: Scope) -> bool:
        return self.window == other.window and (self is other or not (self.widget_only and other.widget_only))


@dataclass(frozen=True, slots=True)
class Shortcut:
    """One action's keys: `text` is its menu text (with its & mnemonic), `menu` the menu it lives in
    (None for a dialog's own keys), `keys` in order of preference (the first one shows in the menu)."""

    action_id: str
    text: str
    keys: tuple[Key, ...]
    menu: str | None
    scope: Scope = Scope.WINDOW

    @property
    def label(self) -> str:
        """The text a person reads: "Retry selected" for "&Retry selected"."""
        return self.text.replace("&&", "\0").replace("&", "").replace("\0", "&")

    @property
    def where(self) -> str:
        """Where it is found and works: "Import menu", "Import ids dialog", or for a key that listens in one
        list only "Import menu, while the search results list has the focus"."""
        place = f"{self.menu} menu" if self.menu else self.scope.window
        return f"{place}, while the {self.scope.value} has the focus" if self.scope.widget_only else place

    def sequences(self, resolve: Resolver = QKeySequence.keyBindings) -> list[QKeySequence]:
        """The key sequences on this platform: standard keys resolved, empty ones and repeats dropped."""
        found: list[QKeySequence] = []
        for key in self.keys:
            for sequence in _resolve_key(key, resolve):
                if sequence not in found:
                    found.append(sequence)
        return found

    def describe_key(self, key: Key, resolve: Resolver = QKeySequence.keyBindings) -> str:
        """A key as the table wrote it, with what a standard key means here ("QKeySequence.Refresh = F5")."""
        if isinstance(key, QKeySequence.StandardKey):
            shown = ", ".join(_portable(seq) for seq in resolve(key)) or "nothing"
            return f"QKeySequence.{key.name} = {shown} on this platform"
        return key


def _resolve_key(key: Key, resolve: Resolver) -> list[QKeySequence]:
    candidates = resolve(key) if isinstance(key, QKeySequence.StandardKey) else [QKeySequence(key)]
    return [sequence for sequence in candidates if not sequence.isEmpty()]


def _portable(sequence: QKeySequence) -> str:
    return sequence.toString(QKeySequence.SequenceFormat.PortableText)


def _overlap(one: QKeySequence, other: QKeySequence) -> bool:
    """The same keys, or one the start of the other (Qt would wait for more keys, or fire neither)."""
    no_match = QKeySequence.SequenceMatch.NoMatch
    return one.matches(other) is not no_match or other.matches(one) is not no_match


#: Every shortcut of the app, menu by menu. Retry selected keeps Ctrl+R; Refresh library is F5 on every
#: platform (QKeySequence.Refresh would add Ctrl+R on GNOME and ⌘R on macOS); Refresh all metrics (every
#: metric source at once; once the Deezer refresh's, and Ctrl+R before that) is Shift+F5. The Metrics menu's
#: "Refresh one source" entries have no keys: they are not in this table.
SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("settings_action", "&Settings…", ("Ctrl+,",), "File"),
    # The platform's Quit key; Windows has none, so Ctrl+Q (the same key elsewhere: it is shown once).
    Shortcut("quit", "&Quit", (StandardKey.Quit, "Ctrl+Q"), "File"),
    Shortcut("find_action", "&Find artists", ("Ctrl+F",), "Import"),
    Shortcut("import_ids_action", "Import &ids or links…", ("Ctrl+I",), "Import"),
    Shortcut("add_to_queue_action", "&Add selected to queue", ("Return", "Enter"), "Import", Scope.SEARCH_RESULTS),
    Shortcut("remove_from_queue", "&Remove from selection", (StandardKey.Delete,), "Import", Scope.SELECTION_QUEUE),
    Shortcut("process_all", "&Process all", ("Ctrl+Return", "Ctrl+Enter"), "Import"),
    Shortcut("retry_selected", "&Retry selected", ("Ctrl+R",), "Import"),
    Shortcut("retry_all_failed", "Retry all &failed", ("Ctrl+Shift+R",), "Import"),
    Shortcut("cancel_selected", "&Cancel selected", ("Ctrl+.",), "Import"),
    Shortcut("cancel_all", "Cancel &all", ("Ctrl+Shift+.",), "Import"),
    Shortcut("remove_finished", "Remove &finished", ("Ctrl+Shift+Backspace",), "Import"),
    # One checkable action: its text reads "Resume queue" while the queue is paused.
    Shortcut("pause_queue", "&Pause queue", ("Ctrl+Shift+P",), "Import"),
    Shortcut("batches_history", "&Batches history…", ("Ctrl+Shift+B",), "Import"),
    Shortcut("show_import", "&Import", ("Ctrl+1",), "View"),
    Shortcut("show_library", "&Library", ("Ctrl+2",), "View"),
    Shortcut("show_alerts", "&Alerts", ("Ctrl+3",), "View"),
    Shortcut("filter_library", "&Filter library", ("Ctrl+L",), "View"),
    Shortcut("refresh_library", "&Refresh library", ("F5",), "View"),
    Shortcut("refresh_all_metrics", "&Refresh all metrics", ("Shift+F5",), "Metrics"),
    Shortcut("find_deezer_ids", "Find &Deezer ids", ("Ctrl+Shift+D",), "Metrics"),
    Shortcut("refresh_history", "Refresh &history", ("Ctrl+H",), "Metrics"),
    # F1 is help: the keys; About needs none.
    Shortcut("keyboard_shortcuts", "&Keyboard shortcuts", (StandardKey.HelpContents, "Ctrl+/"), "Help"),
    Shortcut("open_dashboard", "Open the live &dashboard", ("Ctrl+Shift+O",), "Help"),
    Shortcut("copy_dashboard_url", "&Copy dashboard URL", ("Ctrl+Shift+C",), "Help"),
    Shortcut("import_ids_accept", "Import", ("Ctrl+Return", "Ctrl+Enter"), None, Scope.IMPORT_IDS_DIALOG),
)


def check_shortcuts(shortcuts: Iterable[Shortcut], resolve: Resolver = QKeySequence.keyBindings) -> None:
    """Raise `ShortcutClashError` naming both actions if two that listen at the same time share a key (or one
    key is the start of the other's key sequence), with standard keys resolved by `resolve`; raise
    `ShortcutError` for a repeated action id or an action with no key."""
    seen: dict[str, Shortcut] = {}
    bound: list[tuple[QKeySequence, Key, Shortcut]] = []
    for shortcut in shortcuts:
        if shortcut.action_id in seen:
            raise ShortcutError(f'Two shortcuts are registered for the action id "{shortcut.action_id}"')
        seen[shortcut.action_id] = shortcut
        if not shortcut.sequences(resolve):
            keys = ", ".join(shortcut.describe_key(key, resolve) for key in shortcut.keys) or "no keys"
            raise ShortcutError(f'"{shortcut.label}" ({shortcut.where}) has no key on this platform: {keys}')
        for key in shortcut.keys:
            for sequence in _resolve_key(key, resolve):
                for other_sequence, other_key, other in bound:
                    if other is shortcut or not other.scope.overlaps(shortcut.scope):
                        continue
                    if _overlap(sequence, other_sequence):
                        raise ShortcutClashError(
                            f"{_portable(sequence)} would trigger two actions, so Qt would fire neither: "
                            f'"{other.label}" ({other.where}; {other.describe_key(other_key, resolve)}) and '
                            f'"{shortcut.label}" ({shortcut.where}; {shortcut.describe_key(key, resolve)}). '
                            "Give one of them another key in artist_desktop/ui/shortcuts.py."
                        )
                bound.append((sequence, key, shortcut))


@functools.cache
def _checked_table() -> dict[str, Shortcut]:
    """The table by action id, checked once per process (on the platform the app runs on)."""
    check_shortcuts(SHORTCUTS)
    return {shortcut.action_id: shortcut for shortcut in SHORTCUTS}


def shortcut(action_id: str) -> Shortcut:
    """The registered shortcut of `action_id` (the table is checked for clashes on first use)."""
    table = _checked_table()
    if action_id not in table:
        raise ShortcutError(f'No shortcut is registered for the action id "{action_id}"')
    return table[action_id]


def make_action(action_id: str, parent: QObject) -> QAction:
    """A QAction with the registered text, objectName, keys and shortcut context of `action_id`."""
    entry = shortcut(action_id)
    action = QAction(entry.text, parent)
    action.setObjectName(entry.action_id)
    action.setShortcuts(entry.sequences())
    if entry.scope.widget_only:
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    return action


def key_text(action_id: str) -> str:
    """The first key of `action_id` as this platform writes it, as its menu shows it ("Ctrl+Return"; "⌘↩" on
    macOS): for tooltips and hints that name a key."""
    return shortcut(action_id).sequences()[0].toString(QKeySequence.SequenceFormat.NativeText)


__all__ = [
    "SHORTCUTS",
    "Scope",
    "Shortcut",
    "ShortcutClashError",
    "ShortcutError",
    "check_shortcuts",
    "key_text",
    "make_action",
    "shortcut",
]
