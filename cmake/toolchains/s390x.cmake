# Debian s390x: cross-compile with g++-s390x-linux-gnu, test under qemu-s390x-static.
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(PGINIT_TRIPLET s390x-linux-gnu)
set(PGINIT_QEMU qemu-s390x-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
