# Debian arm64: cross-compile with g++-aarch64-linux-gnu, test under qemu-aarch64-static.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(PGINIT_TRIPLET aarch64-linux-gnu)
set(PGINIT_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
