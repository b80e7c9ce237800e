# Shared part of the toolchain files next to it: cross-compiling pginit with Debian's cross g++
# (g++-<triplet>) for PGINIT_TRIPLET, running the target's binaries (ctest, try_run) under qemu-user.
# Used by scripts/build-static ARCH; by hand: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm64.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${PGINIT_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${PGINIT_TRIPLET}-g++)
# LTO needs the plugin-aware archiver of the target's gcc for the static library.
set(CMAKE_AR ${PGINIT_TRIPLET}-gcc-ar)
set(CMAKE_RANLIB ${PGINIT_TRIPLET}-gcc-ranlib)
# Libraries and headers of the target from its Debian cross sysroot; programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${PGINIT_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/${PGINIT_QEMU})
