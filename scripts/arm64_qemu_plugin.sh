#!/usr/bin/env bash
# Builds the instruction-counting qemu plugin (toolchain/qemu_plugins/insn_count.c) and prints
# the path of the .so. No Debian binary package ships qemu-plugin.h, so the header is taken from
# the source package of the installed qemu-user (apt deb-src; downloaded once into the cache).
#   LC_DOWNLOAD_DIR   cache directory (default: third_party/downloads, git-ignored)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${LC_DOWNLOAD_DIR:-$repo/third_party/downloads}"
version="$(dpkg-query -W -f '${source:Version}' qemu-user 2>/dev/null || true)"
if [[ -z "$version" ]]; then
  echo "arm64_qemu_plugin.sh: qemu-user is not installed (apt-get install qemu-user)" >&2
  exit 1
fi
upstream="${version#*:}"; upstream="${upstream%%+*}"; upstream="${upstream%%-*}"
include_dir="$cache/qemu-$upstream/include"
plugin="$cache/qemu-$upstream/libinsn_count.so"
if [[ ! -f "$include_dir/qemu-plugin.h" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # A private apt state keeps the system's sources untouched.
  mkdir -p "$work/lists/partial"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  suite="$(. /etc/os-release && echo "$VERSION_CODENAME")"
  printf 'deb-src [signed-by=%s] http://deb.debian.org/debian %s main\ndeb-src [signed-by=%s] http://deb.debian.org/debian-security %s-security main\n' \
    "$keyring" "$suite" "$keyring" "$suite" >"$work/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$work/lists" -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" -qq update >&2
  (cd "$work" && apt-get "${apt_opts[@]}" -qq source --download-only "qemu=${version}" >&2)
  tar -xJf "$work"/qemu_*.orig.tar.xz -C "$work" --wildcards '*/include/qemu/qemu-plugin.h'
  mkdir -p "$include_dir"
  cp "$work"/qemu-*/include/qemu/qemu-plugin.h "$include_dir/"
fi
src="$repo/toolchain/qemu_plugins/insn_count.c"
if [[ ! -f "$plugin" || "$src" -nt "$plugin" ]]; then
  cc -O2 -Wall -Werror -shared -fPIC -I"$include_dir" -o "$plugin" "$src"
fi
echo "$plugin"
