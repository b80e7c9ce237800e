#include <doctest.h>

#include "command_line.h"

using namespace pginit;
using Argv = std::vector<std::string>;

TEST_CASE("command_line: shell-style words") {
  CHECK(*split_command_line("python manage.py migrate --noinput") ==
        Argv{"python", "manage.py", "migrate", "--noinput"});
  CHECK(*split_command_line("  sh  -c 'echo \"a b\"; exit 3'  ") == Argv{"sh", "-c", "echo \"a b\"; exit 3"});
  CHECK(*split_command_line("echo \"a \\\"b\\\" \\$HOME \\n\"") == Argv{"echo", "a \"b\" $HOME \\n"});
  CHECK(*split_command_line("a\\ b c") == Argv{"a b", "c"});
  CHECK(*split_command_line("x''y \"\"") == Argv{"xy", ""});
  CHECK(*split_command_line("echo $HOME *") == Argv{"echo", "$HOME", "*"});  // no expansion
}

TEST_CASE("command_line: JSON arrays are taken as they are") {
  CHECK(*split_command_line(R"(["python","manage.py","migrate"])") == Argv{"python", "manage.py", "migrate"});
  CHECK(*split_command_line(R"( [ "a b" , "c\"d", "\u00e9\n" ] )") == Argv{"a b", "c\"d", "\xc3\xa9\n"});
}

TEST_CASE("command_line: errors are usage errors") {
  for (const char* bad :
       {"", "   ", "echo 'open", "echo \"open", "trailing\\", "[]", "[1]", "[\"a\"", "[\"a\"] x", "[\"a\",]"}) {
    CAPTURE(bad);
    auto argv = split_command_line(bad);
    REQUIRE_FALSE(argv.ok());
    CHECK(argv.failure().code == ExitCode::kUsage);
  }
}

TEST_CASE("command_line: join quotes what needs it and round-trips") {
  Argv argv{"sh", "-c", "echo 'hi'; exit 3", ""};
  const std::string joined = join_command_line(argv);
  CHECK(joined == "sh -c 'echo '\\''hi'\\''; exit 3' ''");
  CHECK(*split_command_line(joined) == argv);
  CHECK_FALSE(split_command_line(std::string_view("a\0b", 3)).ok());
  Argv carriage_return{"a\rb"};  // also found by fuzz_parsers
  CHECK(*split_command_line(join_command_line(carriage_return)) == carriage_return);
  Argv bracket{"[x"};  // found by fuzz_parsers: unquoted, it would be read back as a JSON array
  CHECK(*split_command_line(join_command_line(bracket)) == bracket);
}
