#include <doctest.h>

#include "identity.h"

using namespace pginit;

namespace {

constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "alice:x:2001:2001:Alice:/home/alice:/bin/sh\n"
    "# a comment\n"
    "\n"
    "broken:x:notanumber:1::/:/bin/sh\n"
    "short:x:5\n"
    "twin:x:2001:9::/first:/bin/sh\n"
    "bob:x:2002:2002::/srv/bob:/bin/sh\r\n";
constexpr std::string_view kGroup =
    "root:x:0:\n"
    "alice:x:2001:\n"
    "dev:x:3001:alice,bob\n"
    "ops:x:3002:alice\n"
    "empty:x:3003:,\n"
    "bad:x:x:alice\n";
const Identity kRoot{0, 0, {}, "/"};

Identity resolve(std::string_view spec) {
  auto parsed = parse_user_spec(spec);
  REQUIRE(parsed);
  auto identity = resolve_identity(*parsed, kRoot, parse_passwd(kPasswd), parse_group(kGroup));
  REQUIRE(identity);
  return *identity;
}

}  // namespace

TEST_CASE("identity: /etc/passwd and /etc/group entries, malformed lines skipped") {
  const auto passwd = parse_passwd(kPasswd);
  REQUIRE(passwd.size() == 4);
  CHECK(passwd[1].name == "alice");
  CHECK(passwd[1].uid == 2001);
  CHECK(passwd[1].home == "/home/alice");
  CHECK(passwd[3].home == "/srv/bob");  // a CRLF line too
  const auto groups = parse_group(kGroup);
  REQUIRE(groups.size() == 5);
  CHECK(groups[2].members == std::vector<std::string>{"alice", "bob"});
  CHECK(groups[4].members.empty());
}

TEST_CASE("identity: a user name gives its ids, home and the groups that list it") {
  const Identity alice = resolve("alice");
  CHECK(alice.uid == 2001);
  CHECK(alice.gid == 2001);
  CHECK(alice.groups == std::vector<gid_t>{3001, 3002});
  CHECK(alice.home == "/home/alice");
}

TEST_CASE("identity: a number is a uid, the first entry with it wins, and a bare uid keeps the caller's gid") {
  CHECK(resolve("2001").home == "/home/alice");
  const Identity bare = resolve("4242");
  CHECK(bare.uid == 4242);
  CHECK(bare.gid == 0);
  CHECK(bare.groups.empty());
  CHECK(bare.home == "/");
}

TEST_CASE("identity: an explicit group replaces the gid and leaves no supplementary groups") {
  const Identity named = resolve("alice:dev");
  CHECK(named.gid == 3001);
  CHECK(named.groups.empty());
  CHECK(resolve("alice:3002").gid == 3002);
  CHECK(resolve("2002:7777").gid == 7777);  // a bare gid
}

TEST_CASE("identity: unknown names and malformed specs are config errors naming them") {
  auto unknown_user = resolve_identity(UserSpec{"ghost", std::nullopt}, kRoot, parse_passwd(kPasswd), {});
  REQUIRE_FALSE(unknown_user);
  CHECK(unknown_user.failure().code == ExitCode::kConfig);
  CHECK(unknown_user.error() == "--user: no user \"ghost\" in /etc/passwd");
  auto unknown_group = resolve_identity(UserSpec{"alice", "ghosts"}, kRoot, parse_passwd(kPasswd), {});
  REQUIRE_FALSE(unknown_group);
  CHECK(unknown_group.error() == "--user: no group \"ghosts\" in /etc/group");
  for (std::string_view spec : {"", ":", "a:", ":b", "a:b:c"}) {
    CAPTURE(spec);
    auto parsed = parse_user_spec(spec);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.failure().code == ExitCode::kConfig);
  }
  // Beyond 2^31-1 a number is no id: taken as a name, and there is none.
  CHECK_FALSE(resolve_identity(UserSpec{"99999999999", std::nullopt}, kRoot, {}, {}));
}
