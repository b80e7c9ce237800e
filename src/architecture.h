#pragma once
// The CPU architecture this binary was compiled for, in Debian's names (those of scripts/build-static,
// the .deb and the images' TARGETARCH), so that `pginit --version` tells which of the builds runs.
#include <string_view>

namespace pginit {

constexpr std::string_view compiled_architecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__arm__) && defined(__ARM_PCS_VFP)
  return "armhf";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64el";
#elif defined(__i386__)
  return "i386";
#else
  return "unknown";
#endif
}

}  // namespace pginit
