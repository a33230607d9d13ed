"""A real Matrix homeserver (Synapse) on 127.0.0.1 for the test suite.

Synapse pins many packages, so it lives in a virtual environment of its own
(``TREFFPUNKT_SYNAPSE_VENV``, default ``<project root>/.synapse-venv``), created on first use.
Use it from a test module with ``pytest_plugins = ["tests.synapse"]`` and the session-scoped
``synapse`` fixture; ``fresh_user(synapse, prefix)`` registers a new user per test. A module
that also imports from here calls ``pytest.register_assert_rewrite("tests.synapse")`` before
that import, or pytest warns that the plugin was imported before it could be rewritten.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SYNAPSE_VERSION = "1.163.2"
VENV_ENV = "TREFFPUNKT_SYNAPSE_VENV"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PASSWORD = "treffpunkt-test-password"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
INSTALL_TIMEOUT = 1200.0

RELAXED = {"per_second": 1000, "burst_count": 1000}
RELAXED_RATE_LIMITS: dict[str, Any] = {
    "rc_message": RELAXED,
    "rc_login": {"address": RELAXED, "account": RELAXED, "failed_attempts": RELAXED},
    "rc_joins": {"local": RELAXED, "remote": RELAXED},
    "rc_invites": {"per_room": RELAXED, "per_user": RELAXED, "per_issuer": RELAXED},
    "rc_room_creation": RELAXED,
    "rc_registration": RELAXED,
    "rc_3pid_validation": RELAXED,
    "rc_admin_redaction": RELAXED,
}

# Runs with the Synapse venv's python (which has PyYAML): argv[1] is the config to rewrite,
# stdin carries a JSON object of top-level keys to set.
_REWRITE_CONFIG = """
import json, sys, yaml
path = sys.argv[1]
with open(path, encoding="utf-8") as fp:
    config = yaml.safe_load(fp)
config.update(json.load(sys.stdin))
with open(path, "w", encoding="utf-8") as fp:
    yaml.safe_dump(config, fp, sort_keys=False)
"""


def _venv_dir() -> Path:
    configured = os.environ.get(VENV_ENV)
    return Path(configured).expanduser().resolve() if configured else PROJECT_ROOT / ".synapse-venv"


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _run(
    cmd: list[str], *, timeout: float, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _synapse_installed(python: Path) -> bool:
    if not python.exists():
        return False
    try:
        result = _run(
            [
                str(python),
                "-c",
                "import importlib.metadata as m, synapse.app.homeserver; "
                "print(m.version('matrix-synapse'))",
            ],
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and result.stdout.strip() == SYNAPSE_VERSION


def ensure_synapse_python() -> Path:
    """The python of a virtual environment with matrix-synapse, created on first use.

    Two processes (e.g. parallel test runs) may call this at once: a lock file next to the
    environment makes the second one wait for the first one's install.
    """
    venv = _venv_dir()
    python = _venv_python(venv)
    # The lock lives inside the environment's directory (venv accepts an existing one), so
    # it is covered by the environment's .gitignore entry.
    venv.mkdir(parents=True, exist_ok=True)
    lock_path = venv / ".treffpunkt-synapse.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            marker = venv / ".treffpunkt-synapse"
            if python.exists() and marker.exists() and marker.read_text() == SYNAPSE_VERSION:
                return python
            if _synapse_installed(python):
                marker.write_text(SYNAPSE_VERSION)
                return python
            steps = [
                [sys.executable, "-m", "venv", str(venv)],
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--no-input",
                    f"matrix-synapse=={SYNAPSE_VERSION}",
                ],
            ]
            for cmd in steps:
                try:
                    result = _run(cmd, timeout=INSTALL_TIMEOUT)
                except subprocess.TimeoutExpired as exc:
                    raise RuntimeError(
                        f"Setting up Synapse in {venv} timed out: {' '.join(cmd)}"
                    ) from exc
                if result.returncode != 0:
                    raise RuntimeError(
                        f"Setting up Synapse in {venv} failed (exit {result.returncode}): "
                        f"{' '.join(cmd)}\n{_tail(result.stdout + result.stderr)}"
                    )
            if not _synapse_installed(python):
                raise RuntimeError(
                    f"matrix-synapse=={SYNAPSE_VERSION} is still not importable with {python}"
                )
            marker.write_text(SYNAPSE_VERSION)
            return python
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log_config(log_file: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "formatters": {
            "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                "%(request)s - %(message)s"
            }
        },
        "filters": {"context": {"()": "synapse.logging.context.LoggingContextFilter"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filters": ["context"],
                "filename": str(log_file),
                "encoding": "utf8",
            }
        },
        "loggers": {"synapse.storage.SQL": {"level": "WARNING"}},
        "root": {"level": "WARNING", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


class Synapse:
    """One Synapse process listening on 127.0.0.1 (client API only, no federation)."""

    server_name = "localhost"

    def __init__(self, python: Path | None = None) -> None:
        self._python = python
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._secret = ""
        self._workdir: Path | None = None
        self.startup_seconds: float | None = None

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("Synapse is not running")
        return f"http://127.0.0.1:{self._port}"

    @property
    def log_path(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("Synapse was never started")
        return self._workdir / "synapse.log"

    def start(self, workdir: Path, *, relaxed_rate_limits: bool = True) -> None:
        if self._process is not None:
            raise RuntimeError("Synapse is already running")
        python = self._python or ensure_synapse_python()
        workdir = workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        self._workdir = workdir
        config_path = workdir / "homeserver.yaml"
        self._generate_config(python, config_path)
        # Picking a free port and binding it later can race with another process: retry.
        for attempt in range(3):
            port = _free_port()
            self._secret = secrets.token_hex(32)
            self._rewrite_config(python, config_path, port, relaxed_rate_limits)
            try:
                self._launch(python, config_path, port)
                return
            except RuntimeError as exc:
                if attempt == 2 or "Address already in use" not in str(exc):
                    raise

    def stop(self) -> None:
        process, self._process = self._process, None
        self._port = None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        with contextlib.suppress(ValueError):
            atexit.unregister(self.stop)

    def __enter__(self) -> Synapse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def register(
        self, username: str, password: str = DEFAULT_PASSWORD, admin: bool = False
    ) -> tuple[str, str]:
        """Create a user with the shared-secret admin API; returns (user_id, access_token)."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = self._request("GET", endpoint)["nonce"]
        mac = hmac.new(self._secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join(
                [
                    nonce.encode(),
                    username.encode(),
                    password.encode(),
                    b"admin" if admin else b"notadmin",
                ]
            )
        )
        answer = self._request(
            "POST",
            endpoint,
            {
                "nonce": nonce,
                "username": username,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        return answer["user_id"], answer["access_token"]

    # -- internals ------------------------------------------------------------------------

    def _generate_config(self, python: Path, config_path: Path) -> None:
        result = _run(
            [
                str(python),
                "-m",
                "synapse.app.homeserver",
                "--server-name",
                self.server_name,
                "--config-path",
                str(config_path),
                "--generate-config",
                "--report-stats=no",
            ],
            cwd=config_path.parent,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"Generating the Synapse config failed (exit {result.returncode}):\n"
                f"{_tail(result.stdout + result.stderr)}"
            )

    def _rewrite_config(
        self, python: Path, config_path: Path, port: int, relaxed_rate_limits: bool
    ) -> None:
        workdir = config_path.parent
        log_config = workdir / "log.config.yaml"
        # JSON is YAML, so the log config needs no YAML writer on this side.
        log_config.write_text(json.dumps(_log_config(workdir / "synapse.log"), indent=2))
        overrides: dict[str, Any] = {
            "listeners": [
                {
                    "port": port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(workdir / "homeserver.db")},
            },
            "log_config": str(log_config),
            "media_store_path": str(workdir / "media_store"),
            "pid_file": str(workdir / "homeserver.pid"),
            "report_stats": False,
            "enable_registration": False,
            "registration_shared_secret": self._secret,
            "federation_domain_whitelist": [],
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "bcrypt_rounds": 4,
        }
        if relaxed_rate_limits:
            overrides.update(RELAXED_RATE_LIMITS)
        process = subprocess.run(
            [str(python), "-c", _REWRITE_CONFIG, str(config_path)],
            input=json.dumps(overrides),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if process.returncode != 0:
            raise RuntimeError(f"Rewriting the Synapse config failed:\n{_tail(process.stderr)}")

    def _launch(self, python: Path, config_path: Path, port: int) -> None:
        workdir = config_path.parent
        output_path = workdir / "synapse.out"
        started = time.monotonic()
        with output_path.open("ab") as output:
            process = subprocess.Popen(
                [str(python), "-m", "synapse.app.homeserver", "-c", str(config_path)],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._process = process
        self._port = port
        atexit.register(self.stop)
        deadline = started + START_TIMEOUT
        versions = f"http://127.0.0.1:{port}/_matrix/client/versions"
        while True:
            if process.poll() is not None:
                self._process = None
                self._port = None
                atexit.unregister(self.stop)
                raise RuntimeError(
                    f"Synapse exited early (code {process.returncode}):\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(versions, timeout=2) as answer:
                    if answer.status == 200:
                        self.startup_seconds = time.monotonic() - started
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"Synapse did not answer within {START_TIMEOUT:.0f} s:\n{self._log_tail()}"
                )
            time.sleep(0.1)

    def _log_tail(self) -> str:
        assert self._workdir is not None
        parts = []
        for name in ("synapse.out", "synapse.log"):
            path = self._workdir / name
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace")
                if text.strip():
                    parts.append(f"--- {name} ---\n{_tail(text)}")
        return "\n".join(parts) or "(no log output)"

    def _request(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return json.load(answer)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise RuntimeError(f"{method} {url} failed: {exc.code} {detail}") from exc


def fresh_user(synapse: Synapse, prefix: str = "user") -> tuple[str, str]:
    """Register a user no other test uses; returns (user_id, access_token)."""
    return synapse.register(f"{prefix}-{uuid.uuid4().hex[:12]}".lower())


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """One real Synapse for the whole test session, with relaxed rate limits."""
    server = Synapse(ensure_synapse_python())
    server.start(tmp_path_factory.mktemp("synapse"), relaxed_rate_limits=True)
    try:
        yield server
    finally:
        server.stop()
