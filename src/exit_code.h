#pragma once
// The exit codes are a public contract (README, "Exit codes"): change them only with a major version.

namespace pginit {

enum class ExitCode : int {
  kOk = 0,                ///< ready (init-container or --check); otherwise the app's own code
  kUsage = 64,            ///< unknown option, bad duration, missing value
  kMigrationFailed = 65,  ///< a migration file or the migrate command failed
  kNotReady = 69,         ///< not ready before --timeout / --migrate-timeout, or --check found it down
  kSoftware = 70,         ///< a bug in pginit (an exception reached main)
  kAuth = 77,             ///< authentication or permission failure
  kConfig = 78,           ///< malformed DSN, unreadable *_FILE, no such database, bad migrations dir
  kNotExecutable = 126,   ///< COMMAND exists but cannot be executed
  kNotFound = 127,        ///< COMMAND not found
};

/// One row of the exit-code reference (--help, the man page, README).
struct ExitCodeMeaning {
  const char* code;     ///< "0", "126 / 127", "128+N"
  const char* meaning;  ///< plain text
};

/// Every exit code pginit itself decides, in order: the public contract.
const ExitCodeMeaning* exit_code_meanings_begin();
const ExitCodeMeaning* exit_code_meanings_end();

/// Exit code of a process stopped by signal `signo`: 128 + signo, as shells report it.
constexpr int exit_code_for_signal(int signo) {
  return 128 + signo;
}

/// Exit code for a child's wait status (from waitpid): its exit code, or 128 + the killing signal.
int exit_code_for_wait_status(int wait_status);

/// Exit code for a failed exec: 127 when the file does not exist, 126 otherwise.
ExitCode exit_code_for_exec_errno(int error_number);

}  // namespace pginit
