# Debian ppc64el: cross-compile with g++-powerpc64le-linux-gnu, test under qemu-ppc64le-static.
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(PGINIT_TRIPLET powerpc64le-linux-gnu)
set(PGINIT_QEMU qemu-ppc64le-static)
include(${CMAKE_CURRENT_LIST_DIR}/cross-linux-gnu.cmake)
