// libFuzzer target for --user's parsers: the spec, /etc/passwd and /etc/group texts, and the resolution.
// They must never crash, and a resolution must only ever name ids that the input holds or the caller's.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "identity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The input's first line is the spec, the rest serves as both files.
  const std::size_t newline = text.find('\n');
  const std::string_view spec = text.substr(0, newline);
  const std::string_view files = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
  const auto passwd = pginit::parse_passwd(files);
  const auto groups = pginit::parse_group(files);
  for (const auto& entry : passwd)
    if (entry.name.empty() || entry.name.find(':') != std::string::npos) std::abort();
  auto parsed = pginit::parse_user_spec(spec);
  if (!parsed) return 0;
  const pginit::Identity current{12345, 54321, {}, "/"};
  auto identity = pginit::resolve_identity(*parsed, current, passwd, groups);
  if (identity && identity->groups.size() > groups.size()) std::abort();
  return 0;
}
