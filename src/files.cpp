#include "files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace pginit {

Result<std::string> read_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Failure{ExitCode::kConfig, std::strerror(errno)};
  std::string content;
  char buffer[16384];
  while (true) {
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int error_number = errno;
      close(fd);
      return Failure{ExitCode::kConfig, std::strerror(error_number)};
    }
    if (got == 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
  }
  close(fd);
  return content;
}

Result<std::vector<DirectoryEntry>> list_directory(const std::string& path) {
  DIR* directory = opendir(path.c_str());
  if (directory == nullptr) {
    return Failure{ExitCode::kConfig, fmt::format("cannot read directory {}: {}", path, std::strerror(errno))};
  }
  std::vector<DirectoryEntry> entries;
  // A listing that stops early must not read as "no more files": readdir and stat say why they fail
  // (EOVERFLOW, for one, where a 32-bit build meets 64-bit inode numbers without large-file support).
  std::optional<Failure> failed;
  while (true) {
    errno = 0;
    dirent* entry = readdir(directory);
    if (entry == nullptr) {
      if (errno != 0)
        failed = Failure{ExitCode::kConfig, fmt::format("cannot read directory {}: {}", path, std::strerror(errno))};
      break;
    }
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat info {};
    // stat, not d_type: some filesystems report DT_UNKNOWN, and links to files should count.
    if (stat((path + "/" + name).c_str(), &info) != 0) {
      if (errno == ENOENT) continue;  // removed since readdir, or a dangling link
      failed = Failure{ExitCode::kConfig, fmt::format("cannot read {}/{}: {}", path, name, std::strerror(errno))};
      break;
    }
    entries.push_back({std::move(name), S_ISREG(info.st_mode), S_ISDIR(info.st_mode)});
  }
  closedir(directory);
  if (failed) return *failed;
  return entries;
}

}  // namespace pginit
