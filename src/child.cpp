#include "child.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "signals.h"

namespace pginit {
namespace {

std::vector<char*> to_argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  return argv;
}

Failure exec_failure(const std::vector<std::string>& argv, int error_number) {
  ExitCode code = exit_code_for_exec_errno(error_number);
  return {code, fmt::format("cannot run \"{}\": {}", argv.empty() ? "" : argv[0], std::strerror(error_number))};
}

}  // namespace

bool owns_terminal_foreground() {
  return isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
}

void reclaim_terminal_foreground() {
  // SIGTTOU is blocked in pginit, so tcsetpgrp from a background group succeeds (POSIX tcsetpgrp).
  tcsetpgrp(STDIN_FILENO, getpgrp());
}

Result<pid_t> spawn_child(const std::vector<std::string>& args, const sigset_t& child_mask, bool take_terminal,
                          bool dies_with_pginit) {
  if (args.empty()) return Failure{ExitCode::kNotFound, "empty command"};
  const pid_t pginit_pid = getpid();
  std::vector<char*> argv = to_argv(args);  // built before fork: no allocation in the child
  int exec_error_pipe[2];
  if (pipe2(exec_error_pipe, O_CLOEXEC) != 0) return exec_failure(args, errno);

  pid_t pid = fork();
  if (pid < 0) {
    int error_number = errno;
    close(exec_error_pipe[0]);
    close(exec_error_pipe[1]);
    return exec_failure(args, error_number);
  }
  if (pid == 0) {
    // As tini's isolate_child(): a group of its own, so a terminal's Ctrl-C reaches it once (not
    // once from the kernel and once forwarded), and --group can signal everything it starts.
    close(exec_error_pipe[0]);
    if (dies_with_pginit) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != pginit_pid) _exit(127);  // pginit died before the prctl: nobody would kill us
    }
    setpgid(0, 0);
    if (take_terminal) tcsetpgrp(STDIN_FILENO, getpid());  // SIGTTOU is still blocked here
    sigprocmask(SIG_SETMASK, &child_mask, nullptr);
    execvp(argv[0], argv.data());
    int error_number = errno;
    ssize_t ignored = write(exec_error_pipe[1], &error_number, sizeof error_number);
    (void)ignored;
    _exit(127);
  }
  close(exec_error_pipe[1]);
  setpgid(pid, pid);  // also in the parent: whichever runs first, the group exists before kill(-pid)
  int error_number = 0;
  ssize_t got;
  // Returns 0 bytes at the child's exec (close-on-exec) or its errno if exec failed: a
  // microseconds-long wait, the one blocking read in pginit.
  do {
    got = read(exec_error_pipe[0], &error_number, sizeof error_number);
  } while (got < 0 && errno == EINTR);
  close(exec_error_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof error_number)) {
    waitpid(pid, nullptr, 0);
    return exec_failure(args, error_number);
  }
  return pid;
}

Failure exec_in_place(const std::vector<std::string>& args, const sigset_t& original_mask) {
  std::vector<char*> argv = to_argv(args);
  sigprocmask(SIG_SETMASK, &original_mask, nullptr);
  execvp(argv[0], argv.data());
  int error_number = errno;
  sigset_t handled = handled_signal_set();
  sigprocmask(SIG_BLOCK, &handled, nullptr);
  return exec_failure(args, error_number);
}

}  // namespace pginit
