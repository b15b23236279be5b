#!/usr/bin/env bash
# C++ unit tests (runtime/*/*_test.cpp): a Release build, then an ASan + UBSan build of the same
# tests. Build trees live in build/cc-tests*. Installs googletest from Debian when it is missing
# (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -f /usr/include/gtest/gtest.h ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgtest-dev >/dev/null
fi
# The venv's cmake/ninja when `make` created it, else the system's.
PATH="$PWD/.venv/bin:$PATH"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

for variant in release sanitize; do
  dir="build/cc-tests-$variant"
  flags=(-DLC_BUILD_PYTHON=OFF -DLC_BUILD_TESTS=ON)
  [[ "$variant" == sanitize ]] && flags+=(-DLC_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  cmake -S . -B "$dir" "${generator[@]}" "${flags[@]}" >/dev/null
  cmake --build "$dir" -j 2 >/dev/null
  echo "== C++ tests ($variant)"
  # Sanitizer reports fail the run; leak checking stays on.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$dir" --output-on-failure
done
