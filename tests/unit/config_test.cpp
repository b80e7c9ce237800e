#include <doctest.h>

#include <algorithm>
#include <csignal>
#include <map>

#include "config.h"

using namespace pginit;
using namespace std::chrono_literals;

namespace {

struct World {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;

  Result<Config> parse(std::vector<std::string> args) const {
    return parse_config(
        args,
        [this](const std::string& name) -> std::optional<std::string> {
          auto found = env.find(name);
          if (found == env.end()) return std::nullopt;
          return found->second;
        },
        [this](const std::string& path) -> Result<std::string> {
          auto found = files.find(path);
          if (found == files.end()) return Failure{ExitCode::kConfig, "No such file or directory"};
          return found->second;
        });
  }
};

std::string param(const Config& config, const char* keyword) {
  return find_param(config.conn_params, keyword).value_or("<unset>");
}

}  // namespace

TEST_CASE("config: defaults") {
  auto config = World{}.parse({});
  REQUIRE(config.ok());
  CHECK(config->timeout == 60s);
  CHECK(config->connect_timeout == 5s);
  CHECK(config->ready_sql == "SELECT 1");
  CHECK(config->command.empty());
  CHECK(config->log_format == LogFormat::kText);
  CHECK(param(*config, "fallback_application_name") == "pginit");
  CHECK(param(*config, "host") == "<unset>");  // left to libpq and PG*
}

TEST_CASE("config: options, both --name value and --name=value, and the command after --") {
  auto config = World{}.parse({"--timeout", "10s", "--connect-timeout=250ms", "--check", "--log-format", "json"});
  REQUIRE(config.ok());
  CHECK(config->timeout == 10s);
  CHECK(config->connect_timeout == 250ms);
  CHECK(config->check);
  CHECK(config->log_format == LogFormat::kJson);

  auto with_command = World{}.parse({"--no-wait", "--", "gunicorn", "--workers", "2"});
  REQUIRE(with_command.ok());
  CHECK(with_command->command == std::vector<std::string>{"gunicorn", "--workers", "2"});
}

TEST_CASE("config: the command starts at the first non-option, as with tini") {
  auto config = World{}.parse({"--no-wait", "python", "--version"});
  REQUIRE(config.ok());
  CHECK(config->command == std::vector<std::string>{"python", "--version"});
}

TEST_CASE("config: usage errors exit 64 and name the problem") {
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  };
  for (const Case& c : {Case{{"--bogus"}, "--bogus"}, Case{{"--timeout"}, "--timeout needs a value"},
                        Case{{"--timeout", "soon"}, "\"soon\""}, Case{{"--log-level", "loud"}, "loud"},
                        Case{{"--backoff-min", "5s", "--backoff-max", "1s"}, "--backoff-min"},
                        Case{{"--check", "--", "app"}, "--check takes no COMMAND"}, Case{{"--dry-run"}, "--migrations"},
                        Case{{"--signal-rewrite", "TERM"}, "FROM:TO"}, Case{{"--remap-exit", "143:300"}, "0 to 255"},
                        Case{{"--migrate-cmd", "echo 'unterminated"}, "unterminated"},
                        Case{{"--migrations-table", "bad-name"}, "SCHEMA.NAME"}}) {
    CAPTURE(c.mentions);
    auto config = World{}.parse(c.args);
    REQUIRE_FALSE(config.ok());
    CHECK(config.failure().code == ExitCode::kUsage);
    CHECK(config.error().find(c.mentions) != std::string::npos);
  }
}

TEST_CASE("config: command line beats PGINIT_* which beats defaults") {
  World world;
  world.env = {{"PGINIT_TIMEOUT", "30s"}, {"PGINIT_READY_SQL", "SELECT 2"}};
  auto from_env = world.parse({});
  REQUIRE(from_env.ok());
  CHECK(from_env->timeout == 30s);
  CHECK(from_env->ready_sql == "SELECT 2");
  auto from_cli = world.parse({"--timeout", "5s"});
  REQUIRE(from_cli.ok());
  CHECK(from_cli->timeout == 5s);
}

TEST_CASE("config: a bad PGINIT_* value names the variable") {
  World world;
  world.env = {{"PGINIT_TIMEOUT", "forever"}};
  auto config = world.parse({});
  REQUIRE_FALSE(config.ok());
  CHECK(config.failure().code == ExitCode::kUsage);
  CHECK(config.error().find("PGINIT_TIMEOUT") != std::string::npos);
}

TEST_CASE("config: connection precedence --dsn > PGINIT_DSN > DATABASE_URL > PG* > aliases") {
  World world;
  world.env = {{"DATABASE_URL", "postgres://url@urlhost:1/urldb"},
               {"POSTGRES_HOST", "aliashost"},
               {"POSTGRES_USER", "aliasuser"},
               {"POSTGRES_DB", "aliasdb"},
               {"POSTGRES_PORT", "7"}};
  auto url = world.parse({});
  REQUIRE(url.ok());
  CHECK(param(*url, "host") == "urlhost");  // the DSN's own value wins over every variable
  CHECK(param(*url, "dbname") == "urldb");
  CHECK(param(*url, "user") == "url");

  world.env["PGINIT_DSN"] = "host=envhost dbname=envdb";
  auto env_dsn = world.parse({});
  REQUIRE(env_dsn.ok());
  CHECK(param(*env_dsn, "host") == "envhost");
  CHECK(param(*env_dsn, "user") == "aliasuser");  // not in the DSN: the alias fills the gap
  CHECK(param(*env_dsn, "port") == "7");

  auto cli = world.parse({"--dsn", "host=clihost"});
  REQUIRE(cli.ok());
  CHECK(param(*cli, "host") == "clihost");
  CHECK(param(*cli, "dbname") == "aliasdb");
}

TEST_CASE("config: libpq's PG* variables win over the POSTGRES_*/DB_* aliases") {
  World world;
  world.env = {{"PGHOST", "pghost"},
               {"POSTGRES_HOST", "aliashost"},
               {"DB_USER", "dbuser"},
               {"PGPASSWORD", "pgpass-123"},
               {"DB_PASS", "alias-pass"}};
  auto config = world.parse({});
  REQUIRE(config.ok());
  CHECK(param(*config, "host") == "<unset>");      // libpq reads PGHOST itself
  CHECK(param(*config, "password") == "<unset>");  // and PGPASSWORD
  CHECK(param(*config, "user") == "dbuser");
}

TEST_CASE("config: POSTGRES_* aliases win over DB_* aliases") {
  World world;
  world.env = {{"POSTGRES_HOST", "a"}, {"DB_HOST", "b"}, {"DB_NAME", "n"}};
  auto config = world.parse({});
  REQUIRE(config.ok());
  CHECK(param(*config, "host") == "a");
  CHECK(param(*config, "dbname") == "n");
}

TEST_CASE("config: *_FILE variables read secrets from files, trailing newline stripped") {
  World world;
  world.env = {{"POSTGRES_PASSWORD_FILE", "/run/secrets/pw"}, {"PGINIT_DSN_FILE", "/run/secrets/dsn"}};
  world.files = {{"/run/secrets/pw", "s3cret-from-file\n"}, {"/run/secrets/dsn", "host=filehost\n"}};
  auto config = world.parse({});
  REQUIRE(config.ok());
  CHECK(param(*config, "password") == "s3cret-from-file");
  CHECK(param(*config, "host") == "filehost");
  CHECK(std::find(config->secrets.begin(), config->secrets.end(), "s3cret-from-file") != config->secrets.end());
}

TEST_CASE("config: a direct variable wins over its _FILE twin") {
  World world;
  world.env = {{"POSTGRES_PASSWORD", "direct-pw"}, {"POSTGRES_PASSWORD_FILE", "/nope"}};
  auto config = world.parse({});
  REQUIRE(config.ok());
  CHECK(param(*config, "password") == "direct-pw");
}

TEST_CASE("config: an unreadable *_FILE is a config error naming the variable") {
  World world;
  world.env = {{"POSTGRES_PASSWORD_FILE", "/run/secrets/missing"}};
  auto config = world.parse({});
  REQUIRE_FALSE(config.ok());
  CHECK(config.failure().code == ExitCode::kConfig);
  CHECK(config.error().find("POSTGRES_PASSWORD_FILE=/run/secrets/missing") != std::string::npos);
}

TEST_CASE("config: a malformed DSN is a config error without its password") {
  auto config = World{}.parse({"--dsn", "postgres://app:hunter2-pw@db:5432/app?bogus_option=1"});
  REQUIRE_FALSE(config.ok());
  CHECK(config.failure().code == ExitCode::kConfig);
  CHECK(config.error().find("hunter2-pw") == std::string::npos);
  CHECK(config.error().find("bogus_option") != std::string::npos);
}

TEST_CASE("config: every password is a secret to redact") {
  World world;
  world.env = {{"PGPASSWORD", "pgpw-1234"}, {"POSTGRES_PASSWORD", "alias-pw-1"}};
  auto config = world.parse({"--dsn", "postgres://u:dsn-pw-99@h/d", "--migrate-dsn", "postgres://u:mig-pw-77@h/d"});
  REQUIRE(config.ok());
  for (const char* secret : {"pgpw-1234", "alias-pw-1", "dsn-pw-99", "mig-pw-77"}) {
    CAPTURE(secret);
    CHECK(std::find(config->secrets.begin(), config->secrets.end(), secret) != config->secrets.end());
  }
  CHECK(find_param(config->migrations.conn_params, "password") == std::optional<std::string>("mig-pw-77"));
  CHECK(config->target.find("dsn-pw-99") == std::string::npos);
}

TEST_CASE("config: supervision and migration options") {
  auto config = World{}.parse({"--group", "--grace", "3s", "--signal-rewrite", "TERM:QUIT", "--remap-exit", "143:0",
                               "--migrations", "db/migrations", "--migrate-cmd", "python manage.py migrate --noinput",
                               "--migrate-fingerprint", "*/migrations/*.py,extra.txt", "--lock-key", "-42",
                               "--migrations-table", "ops.history", "--", "app"});
  REQUIRE(config.ok());
  CHECK(config->supervision.group);
  CHECK(config->supervision.grace == std::optional<Duration>(3s));
  CHECK(config->supervision.rewrite.translate(SIGTERM) == SIGQUIT);
  CHECK(config->supervision.remap.apply(143) == 0);
  CHECK(config->migrations.directory == std::optional<std::string>("db/migrations"));
  CHECK(config->migrations.command == std::vector<std::string>{"python", "manage.py", "migrate", "--noinput"});
  CHECK(config->migrations.fingerprint_globs == std::vector<std::string>{"*/migrations/*.py", "extra.txt"});
  CHECK(config->migrations.lock_key == std::optional<std::int64_t>(-42));
  CHECK(config->migrations.table == "ops.history");
}

TEST_CASE("config: PGINIT_GROUP and other flags read booleans from the environment") {
  World world;
  world.env = {{"PGINIT_GROUP", "true"}, {"PGINIT_NO_WAIT", "1"}, {"PGINIT_EXEC", "false"}};
  auto config = world.parse({"--", "app"});
  REQUIRE(config.ok());
  CHECK(config->supervision.group);
  CHECK(config->no_wait);
  CHECK_FALSE(config->supervision.exec);
  world.env["PGINIT_GROUP"] = "maybe";
  CHECK_FALSE(world.parse({}).ok());
}

TEST_CASE("config: short options are usage errors, except -h") {
  auto short_option = World{}.parse({"-x", "app"});
  REQUIRE_FALSE(short_option.ok());
  CHECK(short_option.failure().code == ExitCode::kUsage);
  CHECK(short_option.error().find("-x") != std::string::npos);
  CHECK(World{}.parse({"-h"})->show_help);
  CHECK(World{}.parse({"--no-wait", "--", "-x"})->command == std::vector<std::string>{"-x"});
}

TEST_CASE("config: --help and --version need nothing else") {
  CHECK(World{}.parse({"--help"})->show_help);
  CHECK(World{}.parse({"--version"})->show_version);
  CHECK(usage_text().find("--migrate-cmd") != std::string::npos);
}

TEST_CASE("config: --ddl-lock-timeout and --ddl-lock-retries") {
  World world;
  auto defaults = world.parse({});
  REQUIRE(defaults.ok());
  CHECK(defaults->migrations.ddl_lock_timeout == 5000ms);
  CHECK(defaults->migrations.ddl_lock_retries == 10);
  auto set = world.parse({"--ddl-lock-timeout", "500ms", "--ddl-lock-retries=3"});
  REQUIRE(set.ok());
  CHECK(set->migrations.ddl_lock_timeout == 500ms);
  CHECK(set->migrations.ddl_lock_retries == 3);
  CHECK(world.parse({"--ddl-lock-timeout", "0"})->migrations.ddl_lock_timeout == 0ms);
  auto bad = world.parse({"--ddl-lock-retries", "-1"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.failure().code == ExitCode::kUsage);
  CHECK(bad.error() == "--ddl-lock-retries: expected a count (0 or more), got \"-1\"");
}

TEST_CASE("config: the migration connection gets keepalive defaults, the wait's does not") {
  World world;
  auto config = world.parse({"--dsn", "host=db keepalives_idle=4"});
  REQUIRE(config.ok());
  CHECK(find_param(config->migrations.conn_params, "keepalives_idle") == "4");
  CHECK(find_param(config->migrations.conn_params, "tcp_user_timeout") == "30000");
  CHECK_FALSE(find_param(config->conn_params, "tcp_user_timeout"));
}

TEST_CASE("config: the wait's session serves the migrations only when nothing sets them apart") {
  World world;
  auto serves = [&](std::vector<std::string> args) {
    auto config = world.parse(std::move(args));
    REQUIRE(config);
    return config->wait_session_serves_migrations();
  };
  CHECK(serves({"--dsn", "postgres://app@db/app", "--migrations", "/m"}));
  CHECK(serves({"--dsn", "postgres://app@db/app", "--migrate-cmd", "./migrate", "--", "true"}));
  CHECK_FALSE(serves({"--dsn", "postgres://app@db/app", "--", "true"}));  // nothing to migrate
  CHECK_FALSE(
      serves({"--dsn", "postgres://app@db/app", "--migrate-dsn", "postgres://owner@db/app", "--migrations", "/m"}));
  CHECK_FALSE(serves({"--dsn", "postgres://app@db/app", "--ready-sql", "SET search_path = x", "--migrations", "/m"}));
  CHECK_FALSE(serves({"--dsn", "postgres://app@db/app", "--no-wait", "--migrations", "/m"}));
}
