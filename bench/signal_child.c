// The child of the signal-forwarding benchmark: its SIGTERM handler writes the CLOCK_MONOTONIC time
// (in ns) to stdout, then it waits for the next one; SIGUSR2 ends it.
#include <signal.h>
#include <time.h>
#include <unistd.h>

static void on_term(int signo) {
  (void)signo;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
  char digits[24], line[24];
  int count = 0, length = 0;
  do {  // by hand: printf is not async-signal-safe
    digits[count++] = (char)('0' + ns % 10);
    ns /= 10;
  } while (ns > 0);
  while (count > 0) line[length++] = digits[--count];
  line[length++] = '\n';
  (void)!write(STDOUT_FILENO, line, (size_t)length);
}

static void on_usr2(int signo) {
  (void)signo;
  _exit(0);
}

int main(void) {
  struct sigaction term = {0}, usr2 = {0};
  term.sa_handler = on_term;
  usr2.sa_handler = on_usr2;
  sigaction(SIGTERM, &term, NULL);
  sigaction(SIGUSR2, &usr2, NULL);
  (void)!write(STDOUT_FILENO, "ready\n", 6);
  for (;;) pause();
}
