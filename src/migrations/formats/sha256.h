#pragma once
// SHA-256 (FIPS 180-4) for migration checksums and fingerprints. Ours, ~100 lines, so that the
// static binary needs no OpenSSL (which the Debian libpq links, but a static libpq will not).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pginit {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view bytes);
  /// The digest; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> finish();
  /// The digest as 64 lower-case hex digits.
  std::string finish_hex();

 private:
  void compress(const std::uint8_t* block);
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

/// sha256 of `bytes` as hex.
std::string sha256_hex(std::string_view bytes);

/// The first 12 hex digits of a checksum, for log lines and tables.
inline std::string short_checksum(const std::string& checksum) {
  return checksum.substr(0, 12);
}

}  // namespace pginit
