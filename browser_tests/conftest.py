"""The browser test needs Chromium and playwright; without either it stops with one line that
says how to install it (it never skips)."""

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from driver import CHROMIUM  # noqa: E402


def pytest_configure(config):
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        raise pytest.UsageError(
            f"browser test: no Chromium at {CHROMIUM}; install it with `apt-get install -y chromium` "
            "(as root; `make browser-deps` does it) or set HNLAB_CHROMIUM to a Chromium binary"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise pytest.UsageError(
            "browser test: playwright is not installed; run `make install` "
            "(or `pip install -r requirements.txt -c constraints.txt`)"
        ) from None
