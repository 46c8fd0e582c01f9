#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <tuple>

#include "broker/auth/password_file.hpp"
#include "tests/unit/auth/temp_dir.hpp"

using namespace shardmq::broker;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kNew =  // mosquitto_passwd 2.0.11, password "new"
    "$7$101$cEYwkY+I3MABchSj$"
    "4Dqs9ZvwchOnJTOjv17WbEorCGvDyLO2cyN2r84pac1wkHLJpThjiJibczmUXdRAaTXr9rk"
    "tvOgR98t4EOOwGA==";

PasswordFileEditor editor_of(const std::string& text) {
  auto editor = PasswordFileEditor::parse(text, "passwd");
  REQUIRE(editor.has_value());
  return std::move(*editor);
}

bool file_accepts(const std::string& text, std::string_view user, std::string_view password) {
  auto file = PasswordFile::parse(text, "passwd");
  REQUIRE(file.has_value());
  auto result = file->check(user, password);
  REQUIRE(result.has_value());
  return *result;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("password file editor: an update changes only the user's own line",
          "[auth][password_file]") {
  const std::string before =
      "# users of the plant\n"
      "alice:" +
      kNew +
      "\r\n"
      "\n"
      "bob:" +
      kNew +
      "\n"
      "  carol : " +
      kNew + "\n";
  auto editor = editor_of(before);
  CHECK(editor.contains("alice"));
  CHECK(editor.contains("carol"));
  CHECK_FALSE(editor.contains("dave"));
  CHECK(editor.text() == before);  // untouched: byte for byte

  CHECK(editor.set("bob", "$6$NEW"));
  CHECK(editor.text() ==
        "# users of the plant\n"
        "alice:" +
            kNew +
            "\r\n"
            "\n"
            "bob:$6$NEW\n"
            "  carol : " +
            kNew + "\n");

  CHECK_FALSE(editor.set("dave", "$6$DAVE"));  // new users go at the end
  CHECK(editor.remove("alice"));
  CHECK_FALSE(editor.remove("alice"));
  CHECK(editor.set("carol", "$6$CAROL"));  // found by its trimmed name
  CHECK(editor.text() ==
        "# users of the plant\n"
        "\n"
        "bob:$6$NEW\n"
        "carol:$6$CAROL\n"
        "dave:$6$DAVE\n");
}

TEST_CASE("password file editor: a last line without newline gets one", "[auth][password_file]") {
  auto editor = editor_of("alice:" + kNew);
  editor.set("bob", "$6$B");
  CHECK(editor.text() == "alice:" + kNew + "\nbob:$6$B\n");
  CHECK(editor_of("").text().empty());
}

TEST_CASE("password file editor: structure is checked, hashes are not", "[auth][password_file]") {
  // A user with a broken hash can still be reset or removed with the tool.
  auto editor = editor_of("alice:$7$garbage\nbob:plain text\n");
  CHECK(editor.set("alice", kNew));
  CHECK(editor.remove("bob"));
  CHECK(file_accepts(editor.text(), "alice", "new"));

  for (const auto& [text, line, reason] :
       {std::tuple{std::string("alice:x\nnocolon\n"), 2u, "no ':'"},
        std::tuple{std::string("alice:x\nalice:y\n"), 2u, "already defined on line 1"},
        std::tuple{std::string("#\n:x\n"), 2u, "empty user name"},
        std::tuple{std::string("alice:\n"), 1u, "has no password hash"}}) {
    auto refused = PasswordFileEditor::parse(text, "passwd");
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().line == line);
    CHECK_THAT(refused.error().reason, Contains(reason));
  }
}

TEST_CASE("password file editor: -U hashes plain-text passwords and keeps hashed ones",
          "[auth][password_file]") {
  auto editor = editor_of("# plain\nalice:secret\nbob:" + kNew + "\ncarol: pass:word \n");
  auto hashed = editor.hash_plain_text_passwords(PasswordHashKind::pbkdf2_sha512, 5);
  REQUIRE(hashed.has_value());
  CHECK(*hashed == 2);
  const std::string text = editor.text();
  CHECK_THAT(text, StartsWith("# plain\nalice:$7$5$"));
  CHECK_THAT(text, Contains("\nbob:" + kNew + "\n"));  // already hashed: left alone
  CHECK(file_accepts(text, "alice", "secret"));
  CHECK(file_accepts(text, "bob", "new"));
  CHECK(file_accepts(text, "carol", "pass:word"));  // everything after the first ':'

  // Run twice, nothing changes: Mosquitto's -U would hash the hashes again.
  auto again = editor_of(text);
  auto none = again.hash_plain_text_passwords(PasswordHashKind::pbkdf2_sha512, 5);
  REQUIRE(none.has_value());
  CHECK(*none == 0);
  CHECK(again.text() == text);

  auto broken = editor_of("alice:secret\nbob:$7$101$garbage\n");
  auto refused = broken.hash_plain_text_passwords(PasswordHashKind::pbkdf2_sha512, 5);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().line == 2);
  CHECK_THAT(refused.error().to_string(), Contains("passwd:2: user 'bob':"));
  CHECK_THAT(refused.error().reason, Contains("not hashing it as a plain-text password"));
}

TEST_CASE("password file writing: whole, with the old mode, through links",
          "[auth][password_file]") {
  shardmq::test::TempDir dir;
  REQUIRE(dir.ok());
  const std::string path = dir.file("passwd");

  REQUIRE(write_password_file(path, "alice:" + kNew + "\n").has_value());
  CHECK(shardmq::test::read_text(path) == "alice:" + kNew + "\n");
  CHECK(mode_of(path) == 0600);  // hashes are worth keeping from other users

  REQUIRE(::chmod(path.c_str(), 0640) == 0);
  REQUIRE(write_password_file(path, "bob:" + kNew + "\n").has_value());
  CHECK(shardmq::test::read_text(path) == "bob:" + kNew + "\n");
  CHECK(mode_of(path) == 0640);

  const std::string link = dir.file("link");
  std::filesystem::create_symlink(path, link);
  REQUIRE(write_password_file(link, "carol:" + kNew + "\n").has_value());
  CHECK(std::filesystem::is_symlink(link));
  CHECK(shardmq::test::read_text(path) == "carol:" + kNew + "\n");

  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
  }
  CHECK(files == 2);  // no temporary file left behind

  auto nowhere = write_password_file(dir.file("no/such/dir/passwd"), "x");
  REQUIRE_FALSE(nowhere.has_value());
  CHECK_THAT(nowhere.error(), Contains("cannot create a temporary file"));
}
