// The static build's libpq computes SCRAM's salted password over OpenSSL's SHA-256 with the HMAC's
// pads hashed once (scripts/patches/libpq-scram-salted-password.patch). These tests prove it is the
// same function: RFC 7677's exchange byte for byte, RFC 7914's PBKDF2-HMAC-SHA-256 vectors, and the
// patched function against libpq's pristine one (the same source compiled under other names:
// scripts/lib.sh's build_libpq) over random passwords, salts and iteration counts. Static build only.
#include <doctest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

// libpq 15's src/include/common/scram-common.h (the static build's libpq is always 15's).
extern "C" {
int scram_SaltedPassword(const char* password, const char* salt, int saltlen, int iterations, std::uint8_t* result,
                         const char** errstr);
int scram_ClientKey(const std::uint8_t* salted_password, std::uint8_t* result, const char** errstr);
int scram_ServerKey(const std::uint8_t* salted_password, std::uint8_t* result, const char** errstr);
int scram_H(const std::uint8_t* input, int len, std::uint8_t* result, const char** errstr);
int pristine_scram_SaltedPassword(const char* password, const char* salt, int saltlen, int iterations,
                                  std::uint8_t* result, const char** errstr);
}

namespace {

using Key = std::array<std::uint8_t, 32>;

std::string base64(const Key& key) {
  std::string text(44, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), key.data(), static_cast<int>(key.size()));
  return text;
}

std::string base64_decode(const std::string& text) {
  std::string bytes(text.size(), '\0');
  int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                               reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  REQUIRE(length >= 0);
  // EVP_DecodeBlock counts the padding's zero bytes too.
  const auto padding = static_cast<std::size_t>(text.size() - text.find_last_not_of('=') - 1);
  bytes.resize(static_cast<std::size_t>(length) - padding);
  return bytes;
}

template <typename Bytes>
std::string hex(const Bytes& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  for (unsigned char byte : bytes) text += {digits[byte >> 4], digits[byte & 15]};
  return text;
}

Key hmac_sha256(const Key& key, const std::string& message) {
  Key mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac.data(), &length);
  REQUIRE(length == mac.size());
  return mac;
}

Key salted_password(const std::string& password, const std::string& salt, int iterations) {
  Key result{};
  const char* error = nullptr;
  REQUIRE(scram_SaltedPassword(password.c_str(), salt.data(), static_cast<int>(salt.size()), iterations, result.data(),
                               &error) == 0);
  return result;
}

Key pristine_salted_password(const std::string& password, const std::string& salt, int iterations) {
  Key result{};
  const char* error = nullptr;
  REQUIRE(pristine_scram_SaltedPassword(password.c_str(), salt.data(), static_cast<int>(salt.size()), iterations,
                                        result.data(), &error) == 0);
  return result;
}

}  // namespace

TEST_CASE("scram: RFC 7677's SCRAM-SHA-256 exchange, byte for byte") {
  const std::string client_first_bare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
  const std::string server_first =
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  const std::string client_final_without_proof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string auth_message = client_first_bare + "," + server_first + "," + client_final_without_proof;

  // RFC 5802 section 3, with libpq's own functions for everything but the two HMACs over the message.
  const Key salted = salted_password("pencil", base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  CHECK(salted == pristine_salted_password("pencil", base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096));
  Key client_key{}, stored_key{}, server_key{};
  const char* error = nullptr;
  REQUIRE(scram_ClientKey(salted.data(), client_key.data(), &error) == 0);
  REQUIRE(scram_H(client_key.data(), static_cast<int>(client_key.size()), stored_key.data(), &error) == 0);
  REQUIRE(scram_ServerKey(salted.data(), server_key.data(), &error) == 0);
  Key proof = hmac_sha256(stored_key, auth_message);
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] ^= client_key[i];

  CHECK(client_final_without_proof + ",p=" + base64(proof) ==
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  CHECK("v=" + base64(hmac_sha256(server_key, auth_message)) == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}

TEST_CASE("scram: the salted password is PBKDF2-HMAC-SHA-256's first block (RFC 7914 section 11)") {
  CHECK(hex(salted_password("passwd", "salt", 1)) ==
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
  CHECK(hex(salted_password("Password", "NaCl", 80000)) ==
        "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56");
}

TEST_CASE("scram: the patched salted password equals libpq's pristine one") {
  const unsigned seed = std::random_device{}();
  INFO("seed ", seed);
  std::mt19937 random(seed);
  auto bytes = [&](std::size_t min_length, std::size_t max_length, int lowest) {
    std::string text(std::uniform_int_distribution<std::size_t>(min_length, max_length)(random), '\0');
    for (char& byte : text) byte = static_cast<char>(std::uniform_int_distribution<int>(lowest, 255)(random));
    return text;
  };
  // Iteration counts a server may ask for: its default, scram_iterations (16+) from 1 up, and odd ones.
  std::vector<int> iteration_counts = {1, 2, 3, 7, 4095, 4096, 4097, 10000, 65536};
  std::lognormal_distribution<double> spread(6.0, 2.0);
  for (int i = 0; i < 200; ++i) iteration_counts.push_back(1 + static_cast<int>(std::min(spread(random), 30000.0)));

  for (int iterations : iteration_counts) {
    // Passwords as libpq passes them (NUL-terminated bytes, after SASLprep), salts as the server
    // sends them (any bytes; 16 by default, none at all is not refused here).
    const std::string password = bytes(0, 64, 1), salt = bytes(0, 40, 0);
    CAPTURE(iterations);
    INFO("password ", hex(password), ", salt ", hex(salt));
    CHECK(salted_password(password, salt, iterations) == pristine_salted_password(password, salt, iterations));
  }
}
