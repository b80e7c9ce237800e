#include "startup.h"

#include <fmt/format.h>

namespace pginit {

std::string describe_startup(const StartupReport& report, Duration total) {
  const std::string wait = report.wait ? "wait " + format_duration(*report.wait) : "no wait";
  const std::string migrations =
      report.migrations ? fmt::format("migrations {}, {} applied", format_duration(*report.migrations), report.applied)
                        : "no migrations";
  return fmt::format("started the app after {} ({}, {})", format_duration(total), wait, migrations);
}

}  // namespace pginit
