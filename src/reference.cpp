#include "reference.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "exit_code.h"
#include "options.h"

namespace pginit {
namespace {

// roff: a backslash and a leading dot or quote are special; "-" is a hyphen unless escaped.
std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else
      out += c;
  }
  return out;
}

constexpr std::string_view kDescription[] = {
    "pginit is the entrypoint of a Postgres-backed container. It waits for Postgres asynchronously (a "
    "non-blocking libpq connection and query, exponential backoff with jitter, a deadline), telling transient "
    "failures, which it retries, from fatal ones, which end it at once with a documented exit code. It then "
    "runs migrations exactly once across any number of replicas, under a Postgres advisory lock: SQL files "
    "from --migrations and/or an external --migrate-cmd. Last, it runs COMMAND as PID 1: it forwards "
    "signals, reaps zombies and exits with COMMAND's exit code. Without COMMAND it exits 0 when done, as a "
    "Kubernetes init container.",
    "Options end at -- or at the first argument that does not start with -. Every option is also read from "
    "the environment as PGINIT_<NAME> (upper case, - becomes _), and from a file named by PGINIT_<NAME>_FILE; "
    "the command line wins. Flags read 1/true/yes/on or 0/false/no/off. Durations: 250ms, 5s, 1m30s, 2h, or "
    "a number of seconds.",
};

constexpr std::string_view kEnvironment[][2] = {
    {"DATABASE_URL, DATABASE_URL_FILE", "the connection string when neither --dsn nor PGINIT_DSN is given"},
    {"PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, ...",
     "libpq's own variables, for everything the connection string leaves open"},
    {"POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB",
     "the official postgres image's variables, where libpq's are not set (each also as NAME_FILE)"},
    {"DB_HOST, DB_PORT, DB_USER, DB_PASS, DB_NAME",
     "the same, after POSTGRES_* (each also as NAME_FILE, e.g. DB_PASS_FILE=/run/secrets/db_password)"},
};

}  // namespace

std::string man_page(std::string_view version) {
  std::string page = fmt::format(
      ".\\\" Generated from pginit's option and exit-code tables (tools/reference.cpp): do not edit.\n"
      ".TH PGINIT 1 \"\" \"pginit {}\" \"User Commands\"\n"
      ".SH NAME\npginit \\- wait for Postgres, migrate once across replicas, supervise the app as PID 1\n"
      ".SH SYNOPSIS\n.B pginit\n[\\fIOPTIONS\\fR] [\\fB\\-\\-\\fR] [\\fICOMMAND\\fR [\\fIARG\\fR...]]\n"
      ".SH DESCRIPTION\n",
      roff(version));
  for (std::string_view paragraph : kDescription) page += fmt::format("{}\n.PP\n", roff(paragraph));
  page.resize(page.size() - 4);  // no .PP before the next section
  page += ".SH OPTIONS\n";
  for (const OptionSpec& option : option_table()) {
    page += fmt::format(".TP\n\\fB\\-\\-{}\\fR", roff(option.name));
    if (!option.argument.empty()) page += fmt::format(" \\fI{}\\fR", roff(option.argument));
    page += fmt::format("\n{}.", roff(option.help));
    if (option.shows_default()) page += fmt::format(" Default: {}.", roff(option.default_value));
    if (option.from_env) page += fmt::format(" Environment: {}.", roff(environment_variable(option.name)));
    page += "\n";
  }
  page += ".SH ENVIRONMENT\n";
  for (const auto& [names, meaning] : kEnvironment) page += fmt::format(".TP\n.B {}\n{}\n", roff(names), roff(meaning));
  page += ".SH EXIT STATUS\n";
  for (const ExitCodeMeaning* row = exit_code_meanings_begin(); row != exit_code_meanings_end(); ++row)
    page += fmt::format(".TP\n.B {}\n{}\n", roff(row->code), roff(row->meaning));
  page +=
      ".SH EXAMPLES\n"
      "An image's entrypoint that migrates with Django once across replicas, then runs gunicorn as the user app:\n"
      ".PP\n.nf\n"
      "ENTRYPOINT [\"pginit\", \"\\-\\-user\", \"app\", \"\\-\\-migrate\\-cmd\", \"python manage.py migrate\", "
      "\"\\-\\-\"]\n"
      "CMD [\"gunicorn\", \"app.wsgi\"]\n"
      ".fi\n.PP\n"
      "A Kubernetes init container that applies SQL files, and a health check:\n"
      ".PP\n.nf\n"
      "pginit \\-\\-dsn \"$DATABASE_URL\" \\-\\-migrations /migrations\n"
      "pginit \\-\\-check\n"
      ".fi\n"
      ".SH SEE ALSO\n.BR psql (1),\n.BR pg_isready (1),\n.BR tini (1),\n.BR gosu (1)\n";
  return page;
}

std::string exit_codes_markdown() {
  std::string text = "| code | meaning |\n|---|---|\n";
  for (const ExitCodeMeaning* row = exit_code_meanings_begin(); row != exit_code_meanings_end(); ++row)
    text += fmt::format("| {} | {} |\n", row->code, markdown_cell(row->meaning));
  return text;
}

std::string markdown_reference() {
  std::string text =
      "# pginit reference\n\n"
      "Generated from pginit's option and exit-code tables by `tools/reference` (as is the man page, "
      "`docs/pginit.1`): edit `src/options.cpp` and `src/exit_code.cpp`, not this file.\n\n"
      "`pginit [OPTIONS] [--] [COMMAND [ARG...]]`\n\n";
  for (std::string_view paragraph : kDescription) text += fmt::format("{}\n\n", paragraph);
  text += "## Options\n\n| option | environment | default | meaning |\n|---|---|---|---|\n";
  for (const OptionSpec& option : option_table()) {
    const std::string flag =
        fmt::format("`--{}{}{}`", option.name, option.argument.empty() ? "" : " ", markdown_cell(option.argument));
    text += fmt::format("| {} | {} | {} | {} |\n", flag,
                        option.from_env ? fmt::format("`{}`", environment_variable(option.name)) : "-",
                        option.shows_default() ? fmt::format("`{}`", markdown_cell(option.default_value))
                                              : std::string(option.default_value.empty() ? "" : option.default_value),
                        markdown_cell(option.help));
  }
  text += "\n## Environment\n\n| variables | meaning |\n|---|---|\n";
  for (const auto& [names, meaning] : kEnvironment) text += fmt::format("| {} | {} |\n", names, meaning);
  text += "\n## Exit codes (a public contract)\n\n" + exit_codes_markdown();
  return text;
}

}  // namespace pginit
