#include "privileges.h"

#include <grp.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "files.h"

namespace pginit {
namespace {

std::string read_or_empty(const std::string& path) {
  auto content = read_file(path);
  return content ? *content : std::string();
}

Failure refused(const char* call, int error_number) {
  return Failure{ExitCode::kConfig, fmt::format("--user: {} failed: {}", call, std::strerror(error_number))};
}

}  // namespace

Result<Identity> resolve_user(const std::string& spec) {
  auto parsed = parse_user_spec(spec);
  if (!parsed) return parsed.failure();
  const Identity current{getuid(), getgid(), {}, "/"};
  auto identity = resolve_identity(*parsed, current, parse_passwd(read_or_empty("/etc/passwd")),
                                   parse_group(read_or_empty("/etc/group")));
  if (!identity) return identity;
  if (getuid() != 0 && (identity->uid != getuid() || identity->gid != getgid())) {
    return Failure{ExitCode::kConfig,
                   fmt::format("--user {}: only root can become another user, and pginit runs as uid {} gid {}", spec,
                               getuid(), getgid())};
  }
  return identity;
}

std::optional<Failure> become(const Identity& identity) {
  if (getuid() == 0) {
    // The order matters: after setuid there is no permission left for the other two.
    if (setgroups(identity.groups.size(), identity.groups.data()) != 0) return refused("setgroups", errno);
    if (setgid(identity.gid) != 0) return refused("setgid", errno);
    if (setuid(identity.uid) != 0) return refused("setuid", errno);
    if (getuid() != identity.uid || geteuid() != identity.uid || getgid() != identity.gid || getegid() != identity.gid)
      return Failure{ExitCode::kSoftware, "--user: the ids did not take"};
    if (identity.uid != 0 && setuid(0) == 0)
      return Failure{ExitCode::kSoftware, "--user: root could be had back after dropping it"};
  }
  // Always the target's home (su-exec's choice): a HOME inherited from root, /root, is of no use
  // to the app.
  if (setenv("HOME", identity.home.c_str(), 1) != 0) return refused("setenv HOME", errno);
  return std::nullopt;
}

}  // namespace pginit
