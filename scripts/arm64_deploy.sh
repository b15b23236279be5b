#!/usr/bin/env bash
# Builds the deployable aarch64 artifacts for a board (docs/arm64.md, "Deploying to a board"):
#   scripts/arm64_deploy.sh [OUT_DIR]      (default dist/larq-compute-aarch64, plus OUT_DIR.tar.gz)
# bin/lc_benchmark, lib/liblarq_compute_ops.so, lib/libLiteRt.so (aarch64 ai-edge-litert wheel)
# and the headers of the model runner API under include/.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$repo/dist/larq-compute-aarch64}"
cd "$repo"

flags=(--config=aarch64)
targets=(//runtime/tools:lc_benchmark //runtime/ops:liblarq_compute_ops.so)
bazel build "${flags[@]}" "${targets[@]}"
bin_dir="$(bazel info "${flags[@]}" bazel-bin)"
litert_dir="$(scripts/arm64_fetch_litert.sh)"

rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/include/runtime/ops" "$out/include/runtime/core"
install -m 755 "$bin_dir/runtime/tools/lc_benchmark" "$out/bin/"
install -m 755 "$bin_dir/runtime/ops/liblarq_compute_ops.so" "$out/lib/"
install -m 644 "$litert_dir/libLiteRt.so" "$out/lib/"
aarch64-linux-gnu-strip --strip-unneeded "$out/bin/lc_benchmark" "$out/lib/liblarq_compute_ops.so"
cp runtime/ops/*.h "$out/include/runtime/ops/"
cp runtime/core/*.h "$out/include/runtime/core/"
tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
echo "$out"
