# Debian armhf: cross-compile with g++-arm-linux-gnueabihf, test under qemu-arm-static.
set(CMAKE_SYSTEM_PROCESSOR arm)
set(PGINIT_TRIPLET arm-linux-gnueabihf)
set(PGINIT_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
