#include <doctest.h>

#include "migrations/formats/sha256.h"

using namespace pginit;

TEST_CASE("sha256: FIPS 180-4 test vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1'000'000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: incremental updates equal one update") {
  Sha256 pieces;
  std::string text(200, 'x');
  for (std::size_t i = 0; i < text.size(); i += 7) pieces.update(std::string_view(text).substr(i, 7));
  CHECK(pieces.finish_hex() == sha256_hex(text));
  for (std::size_t size : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
    CAPTURE(size);
    Sha256 split;
    std::string input(size, 'q');
    split.update(std::string_view(input).substr(0, size / 2));
    split.update(std::string_view(input).substr(size / 2));
    CHECK(split.finish_hex() == sha256_hex(input));
  }
}
