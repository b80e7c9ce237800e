# Debian amd64 (from another build machine): cross-compile with x86_64-linux-gnu-g++ (package
# g++-x86-64-linux-gnu), test under qemu-x86_64-static.
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(PGINIT_TRIPLET x86_64-linux-gnu)
set(PGINIT_QEMU qemu-x86_64-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
