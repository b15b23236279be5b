#!/usr/bin/env bash
# Fetches LiteRT's aarch64 runtime (libLiteRt.so from the ai-edge-litert wheel pinned in
# pyproject.toml) and prints the directory holding it. The aarch64 wheel exists only under the
# manylinux_2_27 tag, so pip downloads it explicitly for that platform; nothing is installed.
#   LC_DOWNLOAD_DIR   cache directory (default: third_party/downloads, git-ignored)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${LC_DOWNLOAD_DIR:-$repo/third_party/downloads}"
version="$(sed -n 's/^ *"ai-edge-litert==\([0-9.]*\)".*/\1/p' "$repo/pyproject.toml")"
if [[ -z "$version" ]]; then
  echo "arm64_fetch_litert.sh: no ai-edge-litert==X pin in pyproject.toml" >&2
  exit 1
fi
dest="$cache/litert-$version-aarch64"
if [[ ! -f "$dest/libLiteRt.so" ]]; then
  mkdir -p "$cache"
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_27_aarch64 \
    --python-version 3.11 --implementation cp "ai-edge-litert==$version" -d "$cache" >&2
  wheel="$(ls "$cache"/ai_edge_litert-"$version"-*manylinux_2_27_aarch64.whl | head -n 1)"
  staging="$(mktemp -d "$cache/.litert.XXXXXX")"
  chmod 755 "$staging"
  python3 - "$wheel" "$staging" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.endswith("/libLiteRt.so")]
    if len(names) != 1:
        sys.exit(f"expected one libLiteRt.so in {wheel}, found {names}")
    with open(f"{out}/libLiteRt.so", "wb") as f:
        f.write(z.read(names[0]))
PY
  rm -rf "$dest"
  mv -T "$staging" "$dest"
fi
echo "$dest"
