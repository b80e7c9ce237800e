#include "migrations/run/fingerprint.h"

#include <glob.h>
#include <sys/stat.h>
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "files.h"
#include "migrations/formats/sha256.h"

namespace pginit {

std::string fingerprint_of(std::vector<std::pair<std::string, std::string>> files) {
  std::sort(files.begin(), files.end());
  Sha256 hash;
  for (const auto& [path, content] : files) {
    hash.update(path);
    hash.update(std::string_view("\0", 1));
    hash.update(std::to_string(content.size()));
    hash.update(std::string_view("\0", 1));
    hash.update(content);
  }
  return hash.finish_hex();
}

Result<std::string> compute_fingerprint(const std::vector<std::string>& globs) {
  std::set<std::string> paths;
  for (const std::string& pattern : globs) {
    glob_t matches{};
    int status = glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches);
    if (status == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
        struct stat info {};
        if (stat(matches.gl_pathv[i], &info) == 0 && S_ISREG(info.st_mode)) paths.insert(matches.gl_pathv[i]);
      }
    }
    globfree(&matches);
    if (status != 0 && status != GLOB_NOMATCH) {
      return Failure{ExitCode::kConfig, fmt::format("--migrate-fingerprint: cannot expand \"{}\"", pattern)};
    }
  }
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& path : paths) {
    auto content = read_file(path);
    if (!content)
      return Failure{ExitCode::kConfig,
                     fmt::format("--migrate-fingerprint: cannot read {}: {}", path, content.error())};
    files.emplace_back(path, std::move(*content));
  }
  // The patterns themselves count too: a different set of globs is a different fingerprint.
  std::string patterns;
  for (const std::string& pattern : globs) patterns += pattern + '\n';
  files.emplace_back(std::string("\0globs", 6), patterns);
  return fingerprint_of(std::move(files));
}

}  // namespace pginit
