#include "dsn.h"

#include <array>
#include <cctype>
#include <memory>

#include <fmt/format.h>
#include <libpq-fe.h>

namespace pginit {
namespace {

struct Alias {
  std::string_view keyword;
  std::optional<std::string> AliasValues::*value;
  std::array<std::string_view, 2> libpq_variables;  // any of them set: libpq's value wins
};

const std::array kAliases{
    Alias{"host", &AliasValues::host, {"PGHOST", "PGHOSTADDR"}},
    Alias{"port", &AliasValues::port, {"PGPORT", ""}},
    Alias{"user", &AliasValues::user, {"PGUSER", ""}},
    Alias{"password", &AliasValues::password, {"PGPASSWORD", ""}},
    Alias{"dbname", &AliasValues::dbname, {"PGDATABASE", ""}},
};

void set_param(ConnParams& params, std::string_view keyword, std::string value) {
  for (auto& [key, existing] : params) {
    if (key == keyword) {
      existing = std::move(value);
      return;
    }
  }
  params.emplace_back(std::string(keyword), std::move(value));
}

bool is_set(const EnvLookup& env, std::string_view name) {
  return !name.empty() && env(std::string(name)).has_value();
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Long secrets are replaced wherever they appear; short ones only as a whole word, or a password
// "x" would turn "exit" into "e***it" in every line.
void redact_secret(std::string& text, std::string_view secret) {
  constexpr std::size_t kAnywhereLength = 6;
  if (secret.empty()) return;
  for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 1)) {
    const bool whole_word = (pos == 0 || !is_word_char(text[pos - 1])) &&
                            (pos + secret.size() >= text.size() || !is_word_char(text[pos + secret.size()]));
    if (secret.size() < kAnywhereLength && !whole_word) continue;
    text.replace(pos, secret.size(), "***");
  }
}

// "scheme://user:SECRET@host" -> "scheme://user:***@host"
void redact_uri_passwords(std::string& text) {
  for (std::size_t scheme = text.find("://"); scheme != std::string::npos; scheme = text.find("://", scheme + 3)) {
    std::size_t start = scheme + 3;
    std::size_t end = text.find_first_of("/?# \t\n\"'", start);
    std::size_t authority_end = end == std::string::npos ? text.size() : end;
    std::size_t at = text.rfind('@', authority_end);
    if (at == std::string::npos || at < start) continue;
    std::size_t colon = text.find(':', start);
    if (colon == std::string::npos || colon > at) continue;
    text.replace(colon + 1, at - colon - 1, "***");
  }
}

// "password=SECRET" and "password = 'SE CRET'" -> "password=***"; also ?password=SECRET in URIs.
void redact_keyword_passwords(std::string& text) {
  static constexpr std::string_view kKey = "password";
  for (std::size_t pos = text.find(kKey); pos != std::string::npos; pos = text.find(kKey, pos + 1)) {
    std::size_t cursor = pos + kKey.size();
    while (cursor < text.size() && text[cursor] == ' ') ++cursor;
    if (cursor >= text.size() || text[cursor] != '=') continue;
    ++cursor;
    while (cursor < text.size() && text[cursor] == ' ') ++cursor;
    std::size_t value_end = cursor;
    if (cursor < text.size() && text[cursor] == '\'') {
      value_end = cursor + 1;
      while (value_end < text.size() && text[value_end] != '\'') {
        if (text[value_end] == '\\') ++value_end;
        ++value_end;
      }
      value_end = std::min(value_end + 1, text.size());
    } else {
      while (value_end < text.size() && text[value_end] != ' ' && text[value_end] != '&' && text[value_end] != '\n' &&
             text[value_end] != '"') {
        ++value_end;
      }
    }
    if (value_end > cursor) text.replace(cursor, value_end - cursor, "***");
  }
}

}  // namespace

Result<ConnParams> build_conn_params(const std::optional<std::string>& dsn, const AliasValues& aliases,
                                     const EnvLookup& env) {
  ConnParams params;
  params.emplace_back("fallback_application_name", std::string(kFallbackApplicationName));
  for (const Alias& alias : kAliases) {
    const auto& value = aliases.*alias.value;
    if (!value) continue;
    if (is_set(env, alias.libpq_variables[0]) || is_set(env, alias.libpq_variables[1])) continue;
    set_param(params, alias.keyword, *value);
  }
  if (!dsn) return params;

  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(dsn->c_str(), &error),
                                                                       &PQconninfoFree);
  if (!options) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return Failure{ExitCode::kConfig, fmt::format("invalid DSN {}: {}", redact(*dsn, {}), redact(message, {}))};
  }
  for (PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val != nullptr) set_param(params, option->keyword, option->val);
  }
  return params;
}

ConnParams with_keepalive_defaults(ConnParams params) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kDefaults{{{"keepalives", "1"},
                                                                                    {"keepalives_idle", "10"},
                                                                                    {"keepalives_interval", "5"},
                                                                                    {"keepalives_count", "3"},
                                                                                    {"tcp_user_timeout", "30000"}}};
  for (const auto& [keyword, value] : kDefaults) {
    if (!find_param(params, keyword)) params.emplace_back(keyword, value);
  }
  return params;
}

std::optional<std::string> find_param(const ConnParams& params, std::string_view keyword) {
  for (const auto& [key, value] : params) {
    if (key == keyword) return value;
  }
  return std::nullopt;
}

std::string describe_target(const ConnParams& params, const EnvLookup& env) {
  auto pick = [&](std::string_view keyword, const char* variable, std::string fallback) {
    if (auto value = find_param(params, keyword); value && !value->empty()) return *value;
    if (auto value = env(variable); value && !value->empty()) return *value;
    return fallback;
  };
  std::string host = pick("host", "PGHOST", "");
  if (host.empty()) host = pick("hostaddr", "PGHOSTADDR", "/var/run/postgresql");
  std::string port = pick("port", "PGPORT", "5432");
  std::string user = pick("user", "PGUSER", env("USER").value_or("(os user)"));
  std::string dbname = pick("dbname", "PGDATABASE", user);
  return fmt::format("{}:{}/{} as \"{}\"", host, port, dbname, user);
}

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  redact_uri_passwords(out);
  redact_keyword_passwords(out);
  for (const std::string& secret : secrets) redact_secret(out, secret);
  return out;
}

}  // namespace pginit
