# Cross build for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu; tests run under
# qemu-user through toolchain/qemu_run.sh (fake ARM cpuinfo, Cortex-A72 CPU model):
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-toolchain.cmake \
#         -DLC_BUILD_PYTHON=OFF -DLC_BUILD_TESTS=ON
#   cmake --build build/aarch64 && ctest --test-dir build/aarch64
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(LC_AARCH64_TRIPLE aarch64-linux-gnu CACHE STRING "Prefix of the aarch64 cross tools")
set(LC_AARCH64_SYSROOT /usr/${LC_AARCH64_TRIPLE} CACHE PATH "Headers and libraries of the target")
set(CMAKE_C_COMPILER ${LC_AARCH64_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${LC_AARCH64_TRIPLE}-g++)
set(CMAKE_CXX_FLAGS_INIT "-march=armv8-a")

# Libraries and packages come from the target's tree only, programs from the host. No aarch64
# GTest package exists there, so LC_BUILD_TESTS compiles googletest from its sources.
set(CMAKE_FIND_ROOT_PATH ${LC_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/../toolchain/qemu_run.sh)
