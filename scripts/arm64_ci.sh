#!/usr/bin/env bash
# The ARM64 part of CI (.ci/run): installs the cross toolchain, qemu-user, bazel and googletest
# (Debian packages), fetches LiteRT's aarch64 runtime (PyPI), then runs tests/arm64 with every
# test required: bazel and CMake cross builds with their C++ tests under qemu, the end-to-end
# comparison with the x86-64 run, and the instruction-count check of the NEON kernel.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(bazel-bootstrap g++-aarch64-linux-gnu qemu-user libgtest-dev googletest)
installed="$(dpkg-query -W -f '${Status}\n' "${packages[@]}" 2>/dev/null | grep -c "install ok installed" || true)"
if [[ "$installed" != "${#packages[@]}" ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi
scripts/arm64_fetch_litert.sh >/dev/null
scripts/arm64_qemu_plugin.sh >/dev/null

status=0
LC_REQUIRE_ARM64=1 .venv/bin/python -m pytest tests/arm64 -m "slow or not slow" -q --durations=5 || status=$?
bazel shutdown >/dev/null 2>&1 || true
exit "$status"
