"""A throwaway JupyterLab for the browser test: 127.0.0.1, a free port, a random token, and a
temporary copy of ``notebooks/`` as its root, so that JupyterLab's autosave never writes
outputs into the repository's lessons.

The copy sits in ``<tmp>/notebooks`` beside a link to the repository's ``results/``, so the
lessons' relative paths (``../results``, ``../runs/...``) mean what they mean in the
repository but every file a lesson writes lands in the temporary folder. JupyterLab's user
settings and workspaces live in the temporary folder too (the user's own are never read
or changed), with notebook windowing off so that every cell of a lesson is in the page.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: JupyterLab user settings for the test: every cell rendered (no virtual scrolling, so the
#: figures of cells off screen are drawn too), no news or update checks (no network), no
#: autosave surprises, and no "kernel busy on close" dialogs.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the temporary notebooks/ JupyterLab serves
    log: Path

    def lesson_url(self, notebook: str, workspace: str) -> str:
        """``notebook`` opened alone in its own workspace (tabs never share one)."""
        return f"{self.url}/lab/workspaces/{workspace}/tree/{notebook}?token={self.token}&reset"

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(proc: subprocess.Popen, url: str, token: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with {proc.returncode} before it answered; its log:\n"
                + log.read_text(errors="replace")[-3000:]
            )
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(
        f"JupyterLab did not answer on {url} within {timeout:.0f} s; its log:\n"
        + log.read_text(errors="replace")[-3000:]
    )


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to JupyterLab's process group (the server and its kernels), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def jupyterlab(notebooks: Path = ROOT / "notebooks", env: dict | None = None, timeout: float = 90):
    """Start JupyterLab on a copy of ``notebooks``; yield a :class:`Lab`; always stop it (with
    its kernels) and remove the temporary folder."""
    tmp = Path(tempfile.mkdtemp(prefix="hnlab-browser-"))
    proc = None
    try:
        root = tmp / "notebooks"
        shutil.copytree(notebooks, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        if (notebooks.parent / "results").is_dir():
            (tmp / "results").symlink_to(notebooks.parent / "results")
        settings = tmp / "lab-settings"
        for name, value in SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(value))
        port, token = free_port(), secrets.token_hex(16)
        url = f"http://127.0.0.1:{port}"
        run_env = {
            **os.environ,
            "HNLAB_SMOKE": "1",
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-workspaces"),
            "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"),  # no user config (nor `make lab`'s hook)
            "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"),
            **(env or {}),
        }
        log = tmp / "jupyterlab.log"
        cmd = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands, read the kernel's status
            "--ServerApp.log_level=WARN",
        ]  # fmt: skip
        if os.geteuid() == 0:
            cmd.append("--allow-root")  # CI and containers run as root
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=root,
                env=run_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _wait_ready(proc, url, token, log, timeout)
        yield Lab(url, token, root, log)
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
