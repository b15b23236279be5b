"""Fixtures of the ARM64 suites (helpers and the LC_REQUIRE_ARM64 rule in arm64_support)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from arm64_support import AARCH64_LIBDIR, CROSS_CXX, require


@pytest.fixture(scope="session")
def cross_toolchain() -> None:
    require(shutil.which(CROSS_CXX) is not None, f"the aarch64 cross compiler {CROSS_CXX}")
    require(shutil.which("qemu-aarch64") is not None, "qemu-aarch64 (package qemu-user)")
    require((AARCH64_LIBDIR / "ld-linux-aarch64.so.1").exists(), f"the aarch64 glibc in {AARCH64_LIBDIR}")


@pytest.fixture(scope="session")
def bazel(cross_toolchain: None) -> str:
    path = shutil.which("bazel")
    require(path is not None, "bazel (package bazel-bootstrap)")
    require(Path("/usr/src/googletest/googletest").is_dir(), "googletest sources (package googletest)")
    return path
