#pragma once
// --migrate-fingerprint: a hash of the files a migrate command reads, to skip it when unchanged.
#include <string>
#include <utility>
#include <vector>

#include "result.h"

namespace pginit {

/// sha256 over the files in path order: for each, its path, a NUL, its size, a NUL, its content.
/// `files` holds (path, content) pairs; order does not matter.
std::string fingerprint_of(std::vector<std::pair<std::string, std::string>> files);

/// Expands every glob (relative to the working directory, glob(3) rules), reads the regular
/// files it matches and returns their fingerprint_of. A glob that matches nothing still counts
/// (the fingerprint changes when a file appears); an unreadable file is a config error (78).
Result<std::string> compute_fingerprint(const std::vector<std::string>& globs);

}  // namespace pginit
