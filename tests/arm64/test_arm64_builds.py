"""The bazel and CMake builds: host and aarch64 (tests under qemu-user) must both pass."""

from __future__ import annotations

import subprocess

import pytest
from arm64_support import AARCH64_LIBDIR, QEMU_RUN, REPO, cross_compile, run

pytestmark = pytest.mark.usefixtures("cross_toolchain")


def test_qemu_runner_propagates_exit_status_and_uses_arm_cpuinfo(tmp_path):
    # bazel decides PASSED/FAILED from this status, so a lost exit code would hide failures.
    source = tmp_path / "probe.cpp"
    source.write_text(
        "#include <fstream>\n#include <string>\n"
        "int main() {\n"
        '  std::ifstream f("/proc/cpuinfo"); std::string all, line;\n'
        "  while (std::getline(f, line)) all += line + '\\n';\n"
        '  return all.find("CPU part\\t: 0xd08") != std::string::npos ? 42 : 1;\n'
        "}\n"
    )
    probe = cross_compile(source, tmp_path / "probe")
    proc = subprocess.run([str(QEMU_RUN), str(probe)], capture_output=True, text=True, timeout=60,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 42, proc.stderr


def test_qemu_runner_explains_missing_sysroot(tmp_path):
    proc = subprocess.run([str(QEMU_RUN), "/bin/true"], capture_output=True, text=True, timeout=60,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
                               "LC_AARCH64_LIBDIR": str(tmp_path / "missing")})
    assert proc.returncode == 127
    assert "no aarch64 glibc" in proc.stderr


@pytest.mark.slow
def test_bazel_host_build_and_tests(bazel):
    run([bazel, "test", "//..."], timeout=1200)


@pytest.mark.slow
def test_bazel_aarch64_build_and_tests_under_qemu(bazel):
    run([bazel, "test", "--config=aarch64", "//..."], timeout=1800)
    # The tests that just passed must have been aarch64 programs (run through qemu).
    bin_dir = run([bazel, "info", "--config=aarch64", "bazel-bin"], timeout=300).stdout.strip()
    binary = f"{bin_dir}/toolchain/target_cpu_test"
    with open(binary, "rb") as f:
        header = f.read(20)
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183  # EM_AARCH64


@pytest.mark.slow
def test_cmake_aarch64_build_and_ctest_under_qemu(cross_toolchain, tmp_path):
    assert AARCH64_LIBDIR.is_dir()
    build = tmp_path / "build-aarch64"
    run(["cmake", "-S", str(REPO), "-B", str(build), "-G", "Ninja",
         f"-DCMAKE_TOOLCHAIN_FILE={REPO / 'cmake' / 'aarch64-toolchain.cmake'}",
         "-DLC_BUILD_PYTHON=OFF", "-DLC_BUILD_TESTS=ON",
         # Unoptimized: compiles about twice as fast; bazel already tests the -O3 aarch64 build.
         "-DCMAKE_BUILD_TYPE=Debug"], timeout=300)
    run(["cmake", "--build", str(build), "-j2"], timeout=1200)
    run(["ctest", "--test-dir", str(build), "--output-on-failure"], timeout=1800)
