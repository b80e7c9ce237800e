#pragma once
// CRC-32 (IEEE 802.3, as java.util.zip.CRC32 and Go's hash/crc32 compute it) (pure).
#include <cstdint>
#include <string_view>

namespace pginit {

/// The CRC-32 of `bytes` continued from `crc` (0 to start).
std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes);

}  // namespace pginit
