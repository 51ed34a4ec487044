# Cross toolchain for aarch64 Linux (Debian: g++-aarch64-linux-gnu, multiarch libhwy-dev:arm64); tests run
# through qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR, so ctest works unchanged).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Debian multiarch: arm64 libraries and their CMake packages live under /usr/lib/aarch64-linux-gnu,
# arch-independent headers (hwy, boost, doctest) under /usr/include.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# Header-only packages whose CMake files Debian installs only for the build architecture.
if(NOT Boost_DIR AND EXISTS /usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0)
  set(Boost_DIR /usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0 CACHE PATH "")
endif()
find_program(STATIQ_QEMU_AARCH64 qemu-aarch64)
if(STATIQ_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${STATIQ_QEMU_AARCH64})
endif()
