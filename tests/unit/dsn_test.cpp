#include <doctest.h>

#include "dsn.h"

using namespace pginit;

namespace {
EnvLookup no_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}
}  // namespace

TEST_CASE("dsn: URI and key=value forms are both merged") {
  auto uri = build_conn_params("postgres://app:pw@db:6543/shop?sslmode=disable", {}, no_env());
  REQUIRE(uri.ok());
  CHECK(find_param(*uri, "host") == std::optional<std::string>("db"));
  CHECK(find_param(*uri, "port") == std::optional<std::string>("6543"));
  CHECK(find_param(*uri, "dbname") == std::optional<std::string>("shop"));
  CHECK(find_param(*uri, "sslmode") == std::optional<std::string>("disable"));
  auto keywords = build_conn_params("host=db user=app", {}, no_env());
  REQUIRE(keywords.ok());
  CHECK(find_param(*keywords, "user") == std::optional<std::string>("app"));
}

TEST_CASE("dsn: describe_target never shows the password") {
  auto params = build_conn_params("postgres://app:topsecret@db:5432/shop", {}, no_env());
  REQUIRE(params.ok());
  const std::string target = describe_target(*params, no_env());
  CHECK(target == "db:5432/shop as \"app\"");
}

TEST_CASE("dsn: redaction of URIs, key=value strings and known secrets") {
  CHECK(redact("postgres://app:hunter2@db/x", {}) == "postgres://app:***@db/x");
  CHECK(redact("postgresql://app:p%40ss@db:5432/x?sslmode=require", {}) ==
        "postgresql://app:***@db:5432/x?sslmode=require");
  CHECK(redact("host=db password=hunter2 user=app", {}) == "host=db password=*** user=app");
  CHECK(redact("host=db password = 'hun ter2' user=app", {}) == "host=db password = *** user=app");
  CHECK(redact("postgres://db/x?password=hunter2&user=app", {}) == "postgres://db/x?password=***&user=app");
  CHECK(redact("error near hunter22 and hunter22", {"hunter22"}) == "error near *** and ***");
  CHECK(redact("postgres://app@db/x", {}) == "postgres://app@db/x");
}

TEST_CASE("dsn: short secrets are redacted only as whole words") {
  CHECK(redact("exit 77 and x", {"x"}) == "exit 77 and ***");
  CHECK(redact("pw is abc.", {"abc"}) == "pw is ***.");
}

TEST_CASE("dsn: migrations get TCP keepalive defaults, and the DSN's own values win") {
  ConnParams params{{"host", "db"}, {"keepalives_idle", "2"}};
  ConnParams with = with_keepalive_defaults(params);
  CHECK(find_param(with, "host") == "db");
  CHECK(find_param(with, "keepalives_idle") == "2");
  CHECK(find_param(with, "keepalives") == "1");
  CHECK(find_param(with, "keepalives_interval") == "5");
  CHECK(find_param(with, "keepalives_count") == "3");
  CHECK(find_param(with, "tcp_user_timeout") == "30000");
  CHECK(with.size() == 6);
}
