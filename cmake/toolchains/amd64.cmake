# Debian amd64: cross-compile with g++-x86_64-linux-gnu, test under qemu-x86_64-static.
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(PGINIT_TRIPLET x86_64-linux-gnu)
set(PGINIT_QEMU qemu-x86_64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
