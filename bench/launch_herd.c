// Figure 13's launcher: starts N copies of a command as close to at once as a machine can (posix_spawn,
// which is a vfork: ~0.1 ms each, where Python's subprocess.Popen took ~15 ms under this load and so
// spread a "herd" of 300 over 4.6 s), then reaps them. Prints "spawned SECONDS" once all are running,
// then "SECONDS EXIT_CODE" as each ends, times from just before the first spawn (CLOCK_MONOTONIC).
//   launch_herd N COMMAND [ARG...]      (stdout and stderr of the copies go to /dev/null)
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char** environ;

static double seconds_since(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void report(int status, const struct timespec* start) {
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("%.6f %d\n", seconds_since(start), code);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: launch_herd N COMMAND [ARG...]\n");
    return 64;
  }
  const int count = atoi(argv[1]);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int left = count;
  for (int i = 0; i < count; ++i) {
    pid_t pid;
    if (posix_spawnp(&pid, argv[2], &quiet, NULL, argv + 2, environ) != 0) {
      perror("posix_spawnp");
      return 71;
    }
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {  // one that ended already is timed now, not after the loop
      report(status, &start);
      --left;
    }
  }
  printf("spawned %.6f\n", seconds_since(&start));
  for (; left > 0; --left) {
    int status;
    if (wait(&status) < 0) {
      perror("wait");
      return 71;
    }
    report(status, &start);
  }
  return 0;
}
