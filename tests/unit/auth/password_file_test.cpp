#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/auth/password_file.hpp"
#include "tests/unit/auth/temp_dir.hpp"

using namespace shardmq::broker;
using Catch::Matchers::Contains;

namespace {

// mosquitto_passwd 2.0.11: "new"; -H sha512: "hunter2".
const std::string kNew =
    "$7$101$cEYwkY+I3MABchSj$"
    "4Dqs9ZvwchOnJTOjv17WbEorCGvDyLO2cyN2r84pac1wkHLJpThjiJibczmUXdRAaTXr9rk"
    "tvOgR98t4EOOwGA==";
const std::string kHunter2 =
    "$6$ec7XerBZRyCP3Qma$Y6Y9kyhLwiAmxNbX8p442gvTzK1qMoxzmB94Nt8tsZ0JLd2OYVSigtH79gTLy3gSC9kn+"
    "sO6bw2M"
    "dgV+kHRmmg==";

bool accepts(const PasswordFile& file, std::string_view user, std::string_view password) {
  auto result = file.check(user, password);
  REQUIRE(result.has_value());
  return *result;
}

ConfigError parse_failure(const std::string& text) {
  auto file = PasswordFile::parse(text, "passwd");
  REQUIRE_FALSE(file.has_value());
  return file.error();
}

}  // namespace

TEST_CASE("password file: users, comments and blank lines as Mosquitto reads them",
          "[auth][password_file]") {
  const std::string text =
      "# made by mosquitto_passwd\n"
      "\n"
      "alice:" +
      kNew +
      "\n"
      "   \t\n"
      "  # an indented comment\n"
      "  bob :  " +
      kHunter2 +
      "  \r\n"  // blanks trimmed, CRLF
      "carol:" +
      kNew;  // no newline at the end
  auto file = PasswordFile::parse(text, "passwd");
  REQUIRE(file.has_value());
  CHECK(file->size() == 3);

  CHECK(accepts(*file, "alice", "new"));
  CHECK(accepts(*file, "bob", "hunter2"));
  CHECK(accepts(*file, "carol", "new"));
  CHECK_FALSE(accepts(*file, "alice", "hunter2"));
  CHECK_FALSE(accepts(*file, "bob", "new"));
  CHECK_FALSE(accepts(*file, "mallory", "new"));  // not listed: refused, not an error
  CHECK_FALSE(accepts(*file, "Alice", "new"));    // user names are exact
  CHECK_FALSE(accepts(*file, "", "new"));

  const PasswordEntry* bob = file->find("bob");
  REQUIRE(bob != nullptr);
  CHECK(bob->line == 6);
  CHECK(bob->hash.kind == PasswordHashKind::sha512);
  CHECK(file->find("dave") == nullptr);
  CHECK(file->find(" bob") == nullptr);
}

TEST_CASE("password file: an empty file lists nobody", "[auth][password_file]") {
  for (const char* text : {"", "\n", "# nobody yet\n"}) {
    auto file = PasswordFile::parse(text, "passwd");
    REQUIRE(file.has_value());
    CHECK(file->size() == 0);
    CHECK_FALSE(accepts(*file, "alice", ""));
  }
}

TEST_CASE("password file: errors name the file and the line", "[auth][password_file]") {
  auto error = parse_failure("alice:" + kNew + "\nbob\n");
  CHECK(error.file == "passwd");
  CHECK(error.line == 2);
  CHECK(error.to_string() == "passwd:2: no ':' between user name and password hash");

  CHECK(parse_failure("# c\n\n:" + kNew + "\n").line == 3);
  CHECK_THAT(parse_failure("# c\n\n:" + kNew + "\n").reason, Contains("empty user name"));
  CHECK_THAT(parse_failure("bob:\n").to_string(), Contains("passwd:1: user 'bob' has no password"));
  CHECK_THAT(parse_failure("bob:   \r\n").reason, Contains("has no password hash"));
  CHECK_THAT(parse_failure("bob:hunter2\n").to_string(),
             Contains("passwd:1: user 'bob': not a password hash (a plain-text password?"));
  CHECK_THAT(parse_failure("\nbob:$9$abc$def\n").to_string(),
             Contains("passwd:2: user 'bob': unknown hash type '$9$'"));
  CHECK_THAT(parse_failure("bob:$7$101$abc\n").reason, Contains("expected $7$ROUNDS$SALT$DIGEST"));
  CHECK_THAT(parse_failure("bob:" + kNew + ":extra\n").reason,
             Contains("unexpected ':' after the password hash"));
  CHECK_THAT(parse_failure("bob:" + kNew + "\n" + std::string("x\0y:", 4) + kNew).to_string(),
             Contains("passwd:2: NUL byte"));
  CHECK_THAT(parse_failure(std::string(65536, 'u') + ":" + kNew).reason,
             Contains("user name is longer than 65535 bytes"));

  auto twice = parse_failure("alice:" + kNew + "\n# again:\nalice:" + kHunter2 + "\n");
  CHECK(twice.to_string() == "passwd:3: user 'alice' is already defined on line 1");
  // The name is trimmed before it is compared, as Mosquitto compares it.
  CHECK(parse_failure("alice:" + kNew + "\n alice :" + kNew + "\n").line == 2);
}

TEST_CASE("password file: loaded from disk, shared read-only", "[auth][password_file]") {
  shardmq::test::TempDir dir;
  REQUIRE(dir.ok());
  const std::string path = dir.file("passwd");
  shardmq::test::write_text(path, "alice:" + kNew + "\nbob:" + kHunter2 + "\n");

  auto loaded = PasswordFile::load(path);
  REQUIRE(loaded.has_value());
  std::shared_ptr<const PasswordFile> file = *loaded;
  CHECK(file->size() == 2);

  // The hashing workers and every shard read one copy at once; nothing in it changes.
  std::vector<std::thread> readers;
  std::vector<int> verdicts(8, -1);
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([file, i, &verdicts] {
      const bool even = i % 2 == 0;
      auto result = file->check(even ? "bob" : "alice", even ? "hunter2" : "wrong");
      verdicts[static_cast<std::size_t>(i)] = result.has_value() ? (*result ? 1 : 0) : 2;
    });
  }
  for (auto& t : readers)
    t.join();
  for (int i = 0; i < 8; ++i)
    CHECK(verdicts[static_cast<std::size_t>(i)] == (i % 2 == 0 ? 1 : 0));

  shardmq::test::write_text(path, "alice:" + kNew + "\nbroken\n");
  auto refused = PasswordFile::load(path);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().to_string() == path + ":2: no ':' between user name and password hash");

  auto missing = PasswordFile::load(dir.file("nowhere"));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().line == 0);
  CHECK_THAT(missing.error().to_string(), Contains("nowhere: cannot open: No such file"));
}
