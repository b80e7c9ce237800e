#pragma once
// Starting commands: as a supervised child, or in place of pginit (--exec).
#include <string>
#include <vector>

#include <signal.h>
#include <sys/types.h>

#include "result.h"

namespace pginit {

/// Forks and executes `argv` (PATH search) in a process group of its own, with `child_mask` as
/// its signal mask; with `take_terminal`, the child's group becomes the terminal's foreground.
/// Returns the pid once exec has succeeded, or 127 (not found) / 126 (not executable) with a
/// one-line message naming the command. With `dies_with_pginit`, the kernel sends the child
/// SIGKILL should pginit die first (PR_SET_PDEATHSIG).
Result<pid_t> spawn_child(const std::vector<std::string>& argv, const sigset_t& child_mask, bool take_terminal,
                          bool dies_with_pginit = false);

/// Replaces pginit with `argv` (execvp) after restoring `original_mask`. Returns only on
/// failure: 127 / 126 with a one-line message.
Failure exec_in_place(const std::vector<std::string>& argv, const sigset_t& original_mask);

/// True when stdin is a terminal whose foreground process group is pginit's.
bool owns_terminal_foreground();

/// Gives the terminal's foreground back to pginit's process group (after a child that took it).
void reclaim_terminal_foreground();

}  // namespace pginit
