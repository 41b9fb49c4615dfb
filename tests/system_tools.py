"""System tools that some suites need (Chromium, GNU gettext). `make test` installs them when it runs as root
with apt; elsewhere their tests skip and the run ends naming them with the command that installs them. Under
CI a missing tool fails the run instead."""

import os
import shutil

import pytest

SKIP_PREFIX = "needs a system package:"


def require_tool(*names: str, package: str, suite: str) -> str:
    """The path of the first of ``names`` found on PATH, or skip (fail under CI) naming the package."""
    for name in names:
        if path := shutil.which(name):
            return path
    message = f"{SKIP_PREFIX} {suite} needs {package}; install it with: sudo apt-get install {package}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)
