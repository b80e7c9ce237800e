#include "identity.h"

#include <charconv>

#include <fmt/format.h>

namespace pginit {
namespace {

constexpr unsigned long kMaxId = 2147483647;  // ids are signed 32-bit numbers to most tools

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::optional<unsigned> parse_id(std::string_view text) {
  unsigned long value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value > kMaxId) return std::nullopt;
  return static_cast<unsigned>(value);
}

// The lines of an /etc file that may hold an entry, without trailing white space.
std::vector<std::string_view> entry_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (std::string_view line : split(text, '\n')) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

Result<UserSpec> parse_user_spec(std::string_view spec) {
  const std::vector<std::string_view> parts = split(spec, ':');
  const bool malformed = parts.size() > 2 || parts[0].empty() || (parts.size() == 2 && parts[1].empty());
  if (malformed)
    return Failure{ExitCode::kConfig,
                   fmt::format("--user \"{}\": expected USER or USER:GROUP (names or numeric ids)", spec)};
  UserSpec parsed{std::string(parts[0]), std::nullopt};
  if (parts.size() == 2) parsed.group = std::string(parts[1]);
  return parsed;
}

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> entries;
  for (std::string_view line : entry_lines(text)) {
    const std::vector<std::string_view> fields = split(line, ':');
    if (fields.size() < 6 || fields[0].empty()) continue;
    const auto uid = parse_id(fields[2]);
    const auto gid = parse_id(fields[3]);
    if (!uid || !gid) continue;
    entries.push_back(PasswdEntry{std::string(fields[0]), *uid, *gid, std::string(fields[5])});
  }
  return entries;
}

std::vector<GroupEntry> parse_group(std::string_view text) {
  std::vector<GroupEntry> entries;
  for (std::string_view line : entry_lines(text)) {
    const std::vector<std::string_view> fields = split(line, ':');
    if (fields.size() < 3 || fields[0].empty()) continue;
    const auto gid = parse_id(fields[2]);
    if (!gid) continue;
    GroupEntry entry{std::string(fields[0]), *gid, {}};
    if (fields.size() > 3) {
      for (std::string_view member : split(fields[3], ','))
        if (!member.empty()) entry.members.emplace_back(member);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<Identity> resolve_identity(const UserSpec& spec, const Identity& current, const std::vector<PasswdEntry>& passwd,
                                  const std::vector<GroupEntry>& groups) {
  Identity identity{current.uid, current.gid, {}, current.home};
  const std::optional<unsigned> uid = parse_id(spec.user);
  const PasswdEntry* user = nullptr;
  for (const PasswdEntry& entry : passwd) {
    if (uid ? entry.uid == *uid : entry.name == spec.user) {
      user = &entry;  // the first match wins
      break;
    }
  }
  if (user != nullptr) {
    identity.uid = user->uid;
    identity.gid = user->gid;
    identity.home = user->home;
  } else if (uid) {
    identity.uid = *uid;
  } else {
    return Failure{ExitCode::kConfig, fmt::format("--user: no user \"{}\" in /etc/passwd", spec.user)};
  }

  if (spec.group) {
    const std::optional<unsigned> gid = parse_id(*spec.group);
    const GroupEntry* group = nullptr;
    for (const GroupEntry& entry : groups) {
      if (gid ? entry.gid == *gid : entry.name == *spec.group) {
        group = &entry;
        break;
      }
    }
    if (group != nullptr)
      identity.gid = group->gid;
    else if (gid)
      identity.gid = *gid;
    else
      return Failure{ExitCode::kConfig, fmt::format("--user: no group \"{}\" in /etc/group", *spec.group)};
    return identity;
  }
  if (user != nullptr) {
    for (const GroupEntry& entry : groups) {
      for (const std::string& member : entry.members) {
        if (member == user->name) {
          identity.groups.push_back(entry.gid);
          break;
        }
      }
    }
  }
  return identity;
}

}  // namespace pginit
