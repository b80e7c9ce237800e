// libFuzzer target: every format's reader (and the detection that picks one) takes any directory
// without reading out of bounds, and what it returns is well-formed: sections inside the text, in
// order, split into statements that are views of it, each file's statements found again by the
// splitter. The input is a directory: "name\0content\0name\0content...", its first byte the format.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "migrations/formats/formats.h"
#include "migrations/formats/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<pginit::SourceFile> files;
  while (!input.empty() && files.size() < 16) {
    const std::size_t name_end = input.find('\0');
    std::string name(input.substr(0, name_end));
    input = name_end == std::string_view::npos ? std::string_view{} : input.substr(name_end + 1);
    const std::size_t content_end = input.find('\0');
    files.push_back({std::move(name), std::string(input.substr(0, content_end))});
    input = content_end == std::string_view::npos ? std::string_view{} : input.substr(content_end + 1);
  }
  constexpr pginit::MigrationFormat kFormats[] = {
      pginit::MigrationFormat::kPginit, pginit::MigrationFormat::kGolangMigrate, pginit::MigrationFormat::kGoose,
      pginit::MigrationFormat::kDbmate, pginit::MigrationFormat::kFlyway,        pginit::MigrationFormat::kPrisma};
  pginit::detect_format(files);
  pginit::FormatOptions options;
  options.placeholders["name"] = "value";
  options.environment["VAR"] = "value";
  auto read = pginit::read_migrations(kFormats[data[0] % 6], files, options);
  if (!read) return 0;
  for (const pginit::MigrationFile& file : *read) {
    std::size_t previous_end = 0;
    for (const auto& [begin, end] : file.sections) {
      if (begin < previous_end || end < begin || end > file.content.size()) std::abort();
      previous_end = end;
    }
    auto split = pginit::split_migration(file);
    if (!split) continue;
    for (const pginit::SqlStatement& statement : split->statements) {
      if (statement.text.data() < file.content.data() ||
          statement.text.data() + statement.text.size() > file.content.data() + file.content.size())
        std::abort();
    }
  }
  return 0;
}
