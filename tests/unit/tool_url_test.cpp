#include <doctest.h>

#include "tool_url.h"

using namespace pginit;

TEST_CASE("tool_url: golang-migrate's x- parameters are taken out of the URI, URL-decoded") {
  const ToolUrl url = take_tool_url_parameters(
      "postgres://app:pw@db:5432/app?sslmode=disable&x-migrations-table=my%20migrations&x-multi-statement=true");
  CHECK(url.dsn == "postgres://app:pw@db:5432/app?sslmode=disable");
  CHECK(url.parameters.at("x-migrations-table") == "my migrations");
  CHECK(url.parameters.at("x-multi-statement") == "true");
  CHECK(take_tool_url_parameters("postgres://db/app?x-migrations-table=a+b").parameters.at("x-migrations-table") ==
        "a b");
}

TEST_CASE("tool_url: search_path and x-statement-timeout become settings in options, after the URI's own") {
  CHECK(take_tool_url_parameters("postgresql://db/app?search_path=dbmate,measure").dsn ==
        "postgresql://db/app?options=-c%20search_path%3Ddbmate%2Cmeasure");
  CHECK(take_tool_url_parameters("postgres://db/app?options=-c%20work_mem%3D64MB&search_path=a%20b&x-statement-"
                                 "timeout=5000&sslmode=require")
            .dsn ==
        "postgres://db/app?sslmode=require&options=-c%20work_mem%3D64MB%20-c%20search_path%3Da%5C%20b%20-c%20"
        "statement_timeout%3D5000");
}

TEST_CASE("tool_url: anything else is left as it was") {
  for (const char* dsn : {"host=db dbname=app x-migrations-table=t", "postgres://db/app", "postgres://db/app?",
                          "postgres://db/app?sslmode=verify-full&target_session_attrs=read-write",
                          "mysql://db/app?x-migrations-table=t"}) {
    CAPTURE(dsn);
    const ToolUrl url = take_tool_url_parameters(dsn);
    CHECK(url.parameters.empty());
    CHECK(url.dsn == (std::string_view(dsn).ends_with("?") ? std::string("postgres://db/app") : std::string(dsn)));
  }
}
