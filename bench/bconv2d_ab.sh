#!/usr/bin/env bash
# Before/after per-layer times of the binary conv on QuickNet's shapes, side by side: the kernel
# library at BASE (a git revision) and in the working tree, each linked with
# bench/bconv2d_layers.cpp, run alternately ROUNDS times (1 thread). Prints per layer the median
# over rounds of each side's median and after/before, plus the load average.
#   bench/bconv2d_ab.sh BASE [ROUNDS=7] [ITERATIONS=300] [cold] [int8]   (int8: int8 output)
set -euo pipefail
cd "$(dirname "$0")/.."
base="$1"; rounds="${2:-7}"; iterations="${3:-300}"; mode="${*:4}"
PATH="$PWD/.venv/bin:$PATH"
work=build/bench-ab
rm -rf "$work/base-src" && mkdir -p "$work/base-src"
git archive "$base" | tar -x -C "$work/base-src"
build() {  # source dir, build dir -> the bench binary linked against that library
  cmake -S "$1" -B "$2" -G Ninja -DLC_BUILD_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$2" --target lc_core -j 2 >/dev/null
  g++ -std=c++17 -O2 -I"$1" bench/bconv2d_layers.cpp "$2/liblc_core.a" -lpthread -o "$2/bconv2d_layers"
}
build "$work/base-src" "$work/base-build"
build "$PWD" "$work/head-build"
: >"$work/times.txt"
for ((round = 0; round < rounds; ++round)); do
  "$work/base-build/bconv2d_layers" "$iterations" $mode | sed 's/^/before /' >>"$work/times.txt"
  "$work/head-build/bconv2d_layers" "$iterations" $mode | sed 's/^/after /' >>"$work/times.txt"
done
echo "base $(git rev-parse --short "$base") vs working tree, $rounds alternating rounds of $iterations runs ${mode:+($mode)}; $(uptime | sed 's/.*load/load/')"
python3 - "$work/times.txt" <<'PY'
import statistics, sys
times = {}
for side, layer, us, variant in (line.split() for line in open(sys.argv[1])):
    times.setdefault(layer, {}).setdefault(side, []).append(float(us))
print(f"{'layer':18s}{'before us':>11s}{'after us':>10s}{'after/before':>14s}")
for layer, sides in times.items():
    before, after = statistics.median(sides["before"]), statistics.median(sides["after"])
    print(f"{layer:18s}{before:11.1f}{after:10.1f}{after / before:14.3f}")
PY
