// Writes the reference that pginit's tables imply, or checks that the committed copies say the same:
//   reference write ROOT   -> ROOT/docs/pginit.1, ROOT/docs/reference.md, README's exit-code table
//   reference check ROOT   -> exit 1 naming each file that differs (scripts/reference rewrites them)
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "reference.h"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

constexpr std::string_view kBegin = "<!-- exit-codes:begin -->\n";
constexpr std::string_view kEnd = "<!-- exit-codes:end -->";

// README with its exit-code table (between the markers) as the tables say.
std::string readme_with_exit_codes(std::string readme) {
  const std::size_t begin = readme.find(kBegin);
  const std::size_t end = readme.find(kEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin) return readme + "(no exit-code markers)";
  return readme.replace(begin + kBegin.size(), end - begin - kBegin.size(), pginit::exit_codes_markdown());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "write" && std::string(argv[1]) != "check")) {
    std::fputs("usage: reference write|check ROOT\n", stderr);
    return 64;
  }
  const std::string root = argv[2];
  const std::pair<std::string, std::string> files[] = {
      {root + "/docs/pginit.1", pginit::man_page(PGINIT_VERSION)},
      {root + "/docs/reference.md", pginit::markdown_reference()},
      {root + "/README.md", readme_with_exit_codes(read_all(root + "/README.md"))},
  };
  int differing = 0;
  for (const auto& [path, content] : files) {
    if (std::string(argv[1]) == "write") {
      std::ofstream(path) << content;
    } else if (read_all(path) != content) {
      std::fprintf(stderr, "%s differs from pginit's tables: run scripts/reference\n", path.c_str());
      ++differing;
    }
  }
  return differing == 0 ? 0 : 1;
}
