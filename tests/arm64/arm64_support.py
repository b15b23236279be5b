"""Helpers of the ARM64 suites: they cross-compile for aarch64 and run under qemu-user.

Where the tools are missing the tests skip and say what to install. CI installs them and sets
LC_REQUIRE_ARM64=1, which turns every such skip into a failure, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QEMU_RUN = REPO / "toolchain" / "qemu_run.sh"
CROSS_CXX = "aarch64-linux-gnu-g++"
AARCH64_LIBDIR = Path("/usr/aarch64-linux-gnu/lib")

_INSTALL_HINT = (
    "Debian: apt-get install bazel-bootstrap g++-aarch64-linux-gnu qemu-user "
    "libgtest-dev googletest"
)


def require(condition: bool, what: str) -> None:
    """Skips the test (fails it under LC_REQUIRE_ARM64=1) when `condition` is false."""
    if condition:
        return
    message = f"{what} is not available ({_INSTALL_HINT})"
    if os.environ.get("LC_REQUIRE_ARM64") == "1":
        pytest.fail(f"LC_REQUIRE_ARM64=1 but {message}")
    pytest.skip(message)


def run(cmd: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Runs `cmd` in the repository and fails the test with its output when it fails."""
    proc = subprocess.run(
        cmd, cwd=kwargs.pop("cwd", REPO), capture_output=True, text=True, timeout=timeout, **kwargs
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, cmd))} exited with {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
        )
    return proc


def cross_compile(source: Path, output: Path, *flags: str) -> Path:
    run([CROSS_CXX, "-O2", "-std=c++17", *flags, "-o", str(output), str(source)], timeout=120)
    return output
