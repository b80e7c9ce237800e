#include <doctest.h>

#include <cerrno>
#include <csignal>

#include "exit_code.h"

using namespace pginit;

TEST_CASE("exit_code: the documented numbers") {
  CHECK(static_cast<int>(ExitCode::kUsage) == 64);
  CHECK(static_cast<int>(ExitCode::kMigrationFailed) == 65);
  CHECK(static_cast<int>(ExitCode::kNotReady) == 69);
  CHECK(static_cast<int>(ExitCode::kAuth) == 77);
  CHECK(static_cast<int>(ExitCode::kConfig) == 78);
  CHECK(static_cast<int>(ExitCode::kNotExecutable) == 126);
  CHECK(static_cast<int>(ExitCode::kNotFound) == 127);
}

TEST_CASE("exit_code: signals map to 128+N") {
  CHECK(exit_code_for_signal(SIGTERM) == 143);
  CHECK(exit_code_for_signal(SIGINT) == 130);
  CHECK(exit_code_for_signal(SIGKILL) == 137);
}

TEST_CASE("exit_code: wait statuses") {
  CHECK(exit_code_for_wait_status(3 << 8) == 3);     // exited 3
  CHECK(exit_code_for_wait_status(SIGSEGV) == 139);  // killed by SEGV
  CHECK(exit_code_for_wait_status(SIGKILL) == 137);
}

TEST_CASE("exit_code: exec failures") {
  CHECK(exit_code_for_exec_errno(ENOENT) == ExitCode::kNotFound);
  CHECK(exit_code_for_exec_errno(EACCES) == ExitCode::kNotExecutable);
  CHECK(exit_code_for_exec_errno(ENOEXEC) == ExitCode::kNotExecutable);
}
