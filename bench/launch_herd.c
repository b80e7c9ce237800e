// Figure 13's launcher: starts N copies of a command at once. Each copy is forked first and waits at a
// barrier (a pipe it reads); once all N exist, closing the pipe releases them together and each execs
// the command. Without the barrier the copies that already run take the CPU from the ones still to be
// started: on 2 cores, starting 300 one after another took 3 s (Python's subprocess.Popen: 4.6 s),
// which measured the machine's fork rate rather than a herd. Prints "released SECONDS" (the time the
// forks took), then "SECONDS EXIT_CODE" as each copy ends, times from the release (CLOCK_MONOTONIC).
//   launch_herd N COMMAND [ARG...]      (stdout and stderr of the copies go to /dev/null)
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds_since(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void copy(int barrier, char** command) {
  char released;
  // Blocks until the launcher closes the write end: read then returns 0, for every copy at once.
  while (read(barrier, &released, 1) > 0) {
  }
  close(barrier);
  int quiet = open("/dev/null", O_WRONLY);
  dup2(quiet, STDOUT_FILENO);
  dup2(quiet, STDERR_FILENO);
  close(quiet);
  execvp(command[0], command);
  _exit(127);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: launch_herd N COMMAND [ARG...]\n");
    return 64;
  }
  const int count = atoi(argv[1]);
  int barrier[2];
  if (pipe(barrier) != 0) {
    perror("pipe");
    return 71;
  }
  struct timespec forking;
  clock_gettime(CLOCK_MONOTONIC, &forking);
  fflush(stdout);
  for (int i = 0; i < count; ++i) {
    const pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 71;
    }
    if (pid == 0) {
      close(barrier[1]);
      copy(barrier[0], argv + 2);
    }
  }
  const double forks = seconds_since(&forking);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  close(barrier[1]);
  close(barrier[0]);
  printf("released %.6f\n", forks);
  for (int left = count; left > 0; --left) {
    int status;
    if (wait(&status) < 0) {
      perror("wait");
      return 71;
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("%.6f %d\n", seconds_since(&start), code);
  }
  return 0;
}
