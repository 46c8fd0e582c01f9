// Files written by the real mosquitto_passwd (Debian's 2.0.11, where installed) read here, and
// files edited here read by it.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "broker/auth/password_file.hpp"
#include "tests/unit/auth/temp_dir.hpp"

extern char** environ;

using namespace shardmq::broker;
using Catch::Matchers::Contains;

namespace {

constexpr const char* kMosquittoPasswd = "/usr/bin/mosquitto_passwd";

// Runs the program with `args`, stdin from /dev/null and stderr into `stderr_path`; returns its
// exit status, or -1 when it could not be run.
int run(const std::vector<std::string>& args, const std::string& stderr_path) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

bool accepts(const PasswordFile& file, std::string_view user, std::string_view password) {
  auto result = file.check(user, password);
  REQUIRE(result.has_value());
  return *result;
}

}  // namespace

TEST_CASE("mosquitto_passwd interop: its files verify here, our edits read there",
          "[auth][interop]") {
  if (::access(kMosquittoPasswd, X_OK) != 0) {
    WARN("skipped: " << kMosquittoPasswd << " is not installed (apt install mosquitto)");
    return;
  }
  shardmq::test::TempDir dir;
  REQUIRE(dir.ok());
  const std::string path = dir.file("passwd");
  const std::string errors = dir.file("stderr");
  const std::string odd = "p\xC3\xA4ss w:rd$";  // UTF-8, a blank, ':' and '$'

  REQUIRE(run({kMosquittoPasswd, "-c", "-b", path, "alice", odd}, errors) == 0);
  REQUIRE(run({kMosquittoPasswd, "-H", "sha512", "-b", path, "bob", "hunter2"}, errors) == 0);
  REQUIRE(run({kMosquittoPasswd, "-H", "sha512-pbkdf2", "-I", "7", "-b", path, "carol", "x"},
              errors) == 0);
  const std::string written = shardmq::test::read_text(path);
  INFO(written);

  auto loaded = PasswordFile::load(path);
  REQUIRE(loaded.has_value());
  const PasswordFile& file = **loaded;
  CHECK(file.size() == 3);
  CHECK(accepts(file, "alice", odd));
  CHECK_FALSE(accepts(file, "alice", "p\xC3\xA4ss w"));
  CHECK(accepts(file, "bob", "hunter2"));
  CHECK_FALSE(accepts(file, "bob", "hunter3"));
  CHECK(accepts(file, "carol", "x"));
  CHECK(file.find("alice")->hash.iterations == 101);
  CHECK(file.find("bob")->hash.kind == PasswordHashKind::sha512);
  CHECK(file.find("carol")->hash.iterations == 7);

  // Our editor reproduces its file exactly, then adds a user mosquitto_passwd can still edit.
  auto editor = PasswordFileEditor::load(path);
  REQUIRE(editor.has_value());
  CHECK(editor->text() == written);
  auto dave = hash_password("d4ve", PasswordHashKind::pbkdf2_sha512);
  REQUIRE(dave.has_value());
  editor->set("dave", *dave);
  REQUIRE(write_password_file(path, editor->text()).has_value());

  REQUIRE(run({kMosquittoPasswd, "-b", path, "erin", "3rin"}, errors) == 0);
  REQUIRE(run({kMosquittoPasswd, "-D", path, "bob"}, errors) == 0);
  CHECK(shardmq::test::read_text(errors).empty());  // no "Corrupt password file" complaint

  auto edited = PasswordFile::load(path);
  REQUIRE(edited.has_value());
  CHECK((*edited)->size() == 4);
  CHECK(accepts(**edited, "alice", odd));
  CHECK(accepts(**edited, "dave", "d4ve"));
  CHECK(accepts(**edited, "erin", "3rin"));
  CHECK((*edited)->find("bob") == nullptr);
  CHECK_THAT(shardmq::test::read_text(path), Contains("\ndave:" + *dave + "\n"));
}
