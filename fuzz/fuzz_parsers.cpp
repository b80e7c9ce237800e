// libFuzzer target for the other pure parsers: durations, --migrate-cmd, signal and exit tables,
// redaction, other tools' URL parameters. They must never crash, redaction must never let a known secret
// through, and a URL with its tools' parameters taken out has none left to take.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "command_line.h"
#include "dsn.h"
#include "duration.h"
#include "signals.h"
#include "tool_url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)pginit::parse_duration(text);
  if (auto argv = pginit::split_command_line(text); argv.ok()) {
    // Joining and splitting again gives the same words back.
    auto again = pginit::split_command_line(pginit::join_command_line(*argv));
    if (!again.ok() || *again != *argv) std::abort();
  }
  (void)pginit::SignalRewrite::parse(text);
  (void)pginit::ExitRemap::parse(text);
  const std::string uri = "postgres://u@h/db?" + std::string(text);
  const pginit::ToolUrl taken = pginit::take_tool_url_parameters(uri);
  if (!pginit::take_tool_url_parameters(taken.dsn).parameters.empty()) std::abort();
  const std::string secret = "S3cr3t-P4ss";
  const std::string line = std::string(text) + secret + std::string(text);
  if (pginit::redact(line, {secret}).find(secret) != std::string::npos) std::abort();
  return 0;
}
