#pragma once
// Reading the filesystem: whole files and directory listings, errors as values.
#include <string>
#include <vector>

#include "result.h"

namespace pginit {

/// The whole file; on failure a config error (78) whose message is strerror's text.
Result<std::string> read_file(const std::string& path);

struct DirectoryEntry {
  std::string name;
  bool is_regular_file = false;
  bool is_directory = false;
};

/// The entries of `path` (without "." and ".."), unsorted; config error (78) if unreadable.
Result<std::vector<DirectoryEntry>> list_directory(const std::string& path);

}  // namespace pginit
