#include "exit_code.h"

#include <sys/wait.h>
#include <cerrno>
#include <iterator>

namespace pginit {
namespace {

constexpr ExitCodeMeaning kMeanings[] = {
    {"0", "ready (init-container or --check mode), --dry-run/--status done; otherwise the app's own code"},
    {"64", "usage error: unknown option, bad duration, missing value, contradicting options"},
    {"65",
     "a migration failed: SQL error, changed checksum, --strict-order, failing --migrate-cmd, psql-only syntax in a "
     "file, a lock not had after --ddl-lock-retries, a file that lost the connection 3 times in a row"},
    {"69",
     "the database was not ready before --timeout (or --check found it not ready); the migration lock or a primary "
     "was not had within --migrate-timeout; the connection was lost 10 times during migrations; a pooler gave the "
     "migrations no second server connection within --connect-timeout, three times in a row"},
    {"70", "internal error (a bug: please report it)"},
    {"77",
     "authentication or permission failure (28P01, 28000, 42501), a SCRAM exchange that failed (the server's "
     "signature wrong, no mechanism libpq has): never retried"},
    {"78",
     "configuration error: malformed DSN, unreadable *_FILE, database does not exist (3D000, or a pooler's \"no such "
     "database\"), bad --ready-sql, bad migrations directory, a migration that cannot run through a pooler (session "
     "state), no user name (none in the DSN/PGUSER/DB_USER and no /etc/passwd entry, as in a scratch image), TLS "
     "certificate not trusted or not for this host, SSL required but not offered, channel binding required but not "
     "possible, a libpq option's unknown value, an unknown --user or group, --user while not root"},
    {"126 / 127", "COMMAND (or --migrate-cmd) not executable / not found"},
    {"128+N",
     "stopped by signal N before the app started (SIGTERM -> 143, SIGINT -> 130); once the app runs, its own 128+N "
     "when a signal kills it"},
};

}  // namespace

const ExitCodeMeaning* exit_code_meanings_begin() {
  return std::begin(kMeanings);
}

const ExitCodeMeaning* exit_code_meanings_end() {
  return std::end(kMeanings);
}

int exit_code_for_wait_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return exit_code_for_signal(WTERMSIG(wait_status));
  return static_cast<int>(ExitCode::kSoftware);
}

ExitCode exit_code_for_exec_errno(int error_number) {
  // ENOTDIR: a path component is not a directory, so the file cannot exist either.
  return error_number == ENOENT || error_number == ENOTDIR ? ExitCode::kNotFound : ExitCode::kNotExecutable;
}

}  // namespace pginit
