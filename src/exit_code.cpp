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

}  // namespace pginit
