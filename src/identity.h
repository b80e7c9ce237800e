#pragma once
// Who --user names: "USER[:GROUP]" resolved against /etc/passwd and /etc/group, as gosu and runc
// resolve it (pure: the files' contents are arguments). The static binary has no NSS to ask.
#include <sys/types.h>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace pginit {

/// "USER[:GROUP]": names or numeric ids.
struct UserSpec {
  std::string user;
  std::optional<std::string> group;
};

/// A malformed spec (empty, an empty part, more than one ':') is a config error (78).
Result<UserSpec> parse_user_spec(std::string_view spec);

struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  gid_t gid = 0;
  std::vector<std::string> members;
};

/// The entries of an /etc/passwd (name:password:uid:gid:gecos:home:shell) or /etc/group
/// (name:password:gid:member,member) text. Blank lines, comments and lines that are not well
/// formed (too few fields, an id that is not a number below 2^31) are skipped.
std::vector<PasswdEntry> parse_passwd(std::string_view text);
std::vector<GroupEntry> parse_group(std::string_view text);

/// What pginit becomes.
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups (setgroups)
  std::string home;           ///< HOME for pginit and what it starts
};

/// Resolves `spec` as gosu does (runc's GetExecUser), starting from `current` (uid and gid of the
/// caller, home "/"): USER is a name, or a number taken as a uid (first entry with that uid, or
/// the bare uid without an entry); an entry gives uid, gid and home. GROUP, when given, is a name
/// or a number taken as a gid (or a bare gid), it replaces the gid, and there are no supplementary
/// groups; without it, the supplementary groups are those that list the user's name as a member.
/// An unknown user or group name is a config error (78) naming it.
Result<Identity> resolve_identity(const UserSpec& spec, const Identity& current, const std::vector<PasswdEntry>& passwd,
                                  const std::vector<GroupEntry>& groups);

}  // namespace pginit
