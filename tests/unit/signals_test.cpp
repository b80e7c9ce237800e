#include <doctest.h>

#include <csignal>

#include "signals.h"

using namespace pginit;

TEST_CASE("signals: names and numbers") {
  CHECK(parse_signal("TERM") == std::optional<int>(SIGTERM));
  CHECK(parse_signal("SIGTERM") == std::optional<int>(SIGTERM));
  CHECK(parse_signal("term") == std::optional<int>(SIGTERM));
  CHECK(parse_signal("15") == std::optional<int>(15));
  CHECK(parse_signal("WINCH") == std::optional<int>(SIGWINCH));
  CHECK(parse_signal("RTMIN+2") == std::optional<int>(SIGRTMIN + 2));
  CHECK(parse_signal("RTMAX") == std::optional<int>(SIGRTMAX));
  CHECK_FALSE(parse_signal("NOPE").has_value());
  CHECK_FALSE(parse_signal("0").has_value());
  CHECK_FALSE(parse_signal("65").has_value());
  CHECK(signal_name(SIGQUIT) == "QUIT");
  CHECK(signal_name(SIGRTMIN + 1) == "RTMIN+1");
}

TEST_CASE("signals: the forward set excludes CHLD, faults and the uncatchable") {
  for (int signo : {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP, SIGALRM, SIGPIPE,
                    SIGTTIN, SIGTTOU, SIGURG, SIGRTMIN, SIGRTMAX}) {
    CAPTURE(signo);
    CHECK(is_forwarded(signo));
  }
  for (int signo : {SIGCHLD, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) {
    CAPTURE(signo);
    CHECK_FALSE(is_forwarded(signo));
  }
}

TEST_CASE("signals: what stops start-up and what starts the grace countdown") {
  CHECK(stops_startup(SIGTERM));
  CHECK(stops_startup(SIGINT));
  CHECK(stops_startup(SIGHUP));
  CHECK_FALSE(stops_startup(SIGUSR1));
  CHECK(is_terminating(SIGQUIT));
  CHECK_FALSE(is_terminating(SIGHUP));
}

TEST_CASE("signals: rewrite table") {
  auto rewrite = SignalRewrite::parse("TERM:QUIT,INT:0,10:12");
  REQUIRE(rewrite.ok());
  CHECK(rewrite->translate(SIGTERM) == SIGQUIT);
  CHECK(rewrite->translate(SIGINT) == 0);
  CHECK(rewrite->translate(SIGUSR1) == SIGUSR2);
  CHECK(rewrite->translate(SIGHUP) == SIGHUP);
  auto empty = SignalRewrite::parse("");
  REQUIRE(empty.ok());
  CHECK(empty->translate(SIGTERM) == SIGTERM);
}

TEST_CASE("signals: rewrite errors name the item") {
  for (const char* bad : {"TERM", "TERM:NOPE", "BOGUS:INT", "CHLD:TERM", "KILL:TERM"}) {
    CAPTURE(bad);
    auto rewrite = SignalRewrite::parse(bad);
    REQUIRE_FALSE(rewrite.ok());
    CHECK(rewrite.failure().code == ExitCode::kUsage);
  }
}

TEST_CASE("signals: exit remap") {
  auto remap = ExitRemap::parse("143:0,1:2");
  REQUIRE(remap.ok());
  CHECK(remap->apply(143) == 0);
  CHECK(remap->apply(1) == 2);
  CHECK(remap->apply(2) == 2);
  CHECK_FALSE(ExitRemap::parse("x:1").ok());
  CHECK_FALSE(ExitRemap::parse("1:-1").ok());
  CHECK_FALSE(ExitRemap::parse("256:0").ok());
}
