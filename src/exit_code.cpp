#include "exit_code.h"

#include <sys/wait.h>
#include <cerrno>

namespace pginit {

int exit_code_for_wait_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return exit_code_for_signal(WTERMSIG(wait_status));
  return static_cast<int>(ExitCode::kSoftware);
}

ExitCode exit_code_for_exec_errno(int error_number) {
  // ENOTDIR: a path component is not a directory, so the file cannot exist either.
  return error_number == ENOENT || error_number == ENOTDIR ? ExitCode::kNotFound : ExitCode::kNotExecutable;
}

std::string_view describe(ExitCode code) {
  switch (code) {
    case ExitCode::kOk:
      return "ok";
    case ExitCode::kUsage:
      return "usage error";
    case ExitCode::kMigrationFailed:
      return "migration failed";
    case ExitCode::kNotReady:
      return "database not ready";
    case ExitCode::kSoftware:
      return "internal error";
    case ExitCode::kAuth:
      return "authentication or permission failure";
    case ExitCode::kConfig:
      return "configuration error";
    case ExitCode::kNotExecutable:
      return "command not executable";
    case ExitCode::kNotFound:
      return "command not found";
  }
  return "";
}

}  // namespace pginit
