#!/usr/bin/env bash
# Runs an aarch64 Linux program on this x86-64 machine with qemu-user:
#   toolchain/qemu_run.sh PROGRAM [ARGS...]
# `bazel test --config=aarch64` prefixes every test with it (--run_under).
#
# The guest sees a sysroot holding the cross glibc/libstdc++ and a fake ARM /proc/cpuinfo:
# qemu 7.2 otherwise shows the host's x86 cpuinfo, which ARM CPU detection (XNNPACK inside
# LiteRT) cannot parse. The CPU model is pinned to a Cortex-A72 (Raspberry Pi 4 class, NEON
# without SVE/SME) so kernel choices and instruction counts are reproducible.
#
# Environment: LC_QEMU_CPU (default cortex-a72), LC_QEMU_PLUGIN (a TCG plugin .so, with
# optional LC_QEMU_PLUGIN_ARGS "k=v,k=v"), LC_AARCH64_LIBDIR (default /usr/aarch64-linux-gnu/lib).
set -euo pipefail

if ! command -v qemu-aarch64 >/dev/null 2>&1; then
  echo "qemu_run.sh: qemu-aarch64 not found (Debian: apt-get install qemu-user)" >&2
  exit 127
fi
libdir="${LC_AARCH64_LIBDIR:-/usr/aarch64-linux-gnu/lib}"
if [[ ! -e "$libdir/ld-linux-aarch64.so.1" ]]; then
  echo "qemu_run.sh: no aarch64 glibc in $libdir (Debian: apt-get install g++-aarch64-linux-gnu)" >&2
  exit 127
fi

if [[ -n "${TEST_TMPDIR:-}" ]]; then
  sysroot="$TEST_TMPDIR/qemu-sysroot"
else
  sysroot="${XDG_CACHE_HOME:-$HOME/.cache}/larq-compute/qemu-sysroot"
fi
if [[ ! -e "$sysroot/proc/cpuinfo" || "$(readlink "$sysroot/lib")" != "$libdir" ]]; then
  staging="$(mktemp -d "${sysroot%/*}/.qemu-sysroot.XXXXXX" 2>/dev/null || { mkdir -p "${sysroot%/*}"; mktemp -d "${sysroot%/*}/.qemu-sysroot.XXXXXX"; })"
  mkdir -p "$staging/proc"
  ln -s "$libdir" "$staging/lib"
  for cpu in 0 1 2 3; do
    cat <<CPUINFO
processor	: $cpu
BogoMIPS	: 108.00
Features	: fp asimd evtstrm crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3

CPUINFO
  done >"$staging/proc/cpuinfo"
  rm -rf "$sysroot"
  mv -T "$staging" "$sysroot" 2>/dev/null || rm -rf "$staging"  # a concurrent run won the race
fi

args=(-cpu "${LC_QEMU_CPU:-cortex-a72}" -L "$sysroot")
if [[ -n "${LC_QEMU_PLUGIN:-}" ]]; then
  plugin="$LC_QEMU_PLUGIN"
  [[ -n "${LC_QEMU_PLUGIN_ARGS:-}" ]] && plugin="$plugin,$LC_QEMU_PLUGIN_ARGS"
  args+=(-plugin "$plugin" -d plugin)
fi
exec qemu-aarch64 "${args[@]}" "$@"
