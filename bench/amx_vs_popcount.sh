#!/usr/bin/env bash
# Builds and runs bench/amx_vs_popcount.cpp against the kernel library (CMake, build/bench-amx).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/.venv/bin:$PATH"
cmake -S . -B build/bench-amx -DLC_BUILD_PYTHON=OFF >/dev/null
cmake --build build/bench-amx --target lc_core -j 2 >/dev/null
g++ -std=c++17 -O3 -mavx512f -mavx512bw -mavx512vl -mavx512dq -mamx-tile -mamx-int8 -I. \
  bench/amx_vs_popcount.cpp build/bench-amx/liblc_core.a -lpthread -o build/bench-amx/amx_vs_popcount
build/bench-amx/amx_vs_popcount
