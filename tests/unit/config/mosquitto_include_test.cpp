// mosquitto.conf include_dir: the files ending .conf, in Mosquitto's order, each starting at
// the default listener again, and errors that name the included file.
#include <catch2/catch.hpp>

#include "tests/unit/auth/temp_dir.hpp"
#include "tests/unit/config/config_fixture.hpp"

using namespace shardmq::broker;
using Catch::Matchers::StartsWith;
using shardmq::Result;
using shardmq::test::TempDir;
using shardmq::test::warned;
using shardmq::test::write_text;

namespace {

struct ConfDir {
  TempDir tmp;
  std::string dir = tmp.file("conf.d");
  std::string main = tmp.file("mosquitto.conf");

  ConfDir() {
    REQUIRE(tmp.ok());
    std::filesystem::create_directory(dir);
  }
  void add(const std::string& name, const std::string& text) const {
    write_text(dir + "/" + name, text);
  }
  Result<MosquittoConf, ConfigError> load(const std::string& main_text) const {
    write_text(main, main_text);
    return load_mosquitto_conf(main);
  }
};

}  // namespace

TEST_CASE("mosquitto.conf: include_dir reads its .conf files in Mosquitto's order",
          "[config][mosquitto][include]") {
  ConfDir d;
  // Each file adds a listener on its own port; their order is the order of the listeners.
  // Mosquitto's documented example: 00, 01, A, a, B, b.
  const std::vector<std::pair<std::string, int>> files = {
      {"b.conf", 6}, {"A.conf", 3}, {"01.conf", 2}, {"a.conf", 4}, {"B.conf", 5}, {"00.conf", 1}};
  for (const auto& [name, port] : files)
    d.add(name, "listener " + std::to_string(2000 + port) + " 127.0.0.1\n");
  d.add("notes.txt", "listener 2999 127.0.0.1\n");  // not .conf
  d.add(".conf", "listener 2998 127.0.0.1\n");      // nothing before .conf: Mosquitto skips it
  std::filesystem::create_directory(d.dir + "/sub.d");
  auto m = d.load("listener 2000 127.0.0.1\ninclude_dir " + d.dir + "\nlistener 2007 127.0.0.1\n");
  if (!m) FAIL(m.error().to_string());
  std::vector<int> ports;
  for (const ListenerConfig& l : m->config.listeners)
    ports.push_back(l.port);
  CHECK(ports == std::vector<int>{2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007});
}

TEST_CASE(
    "mosquitto.conf: each included file starts at the default listener; the main file "
    "carries on with its own",
    "[config][mosquitto][include]") {
  ConfDir d;
  d.add("tls.conf",
        "max_connections 7\n"  // before this file's first listener: the default listener
        "listener 8883 127.0.0.1\ncertfile /c\nkeyfile /k\n");
  auto m = d.load("listener 1883 127.0.0.1\ninclude_dir " + d.dir + "\nmax_connections 3\n");
  if (!m) FAIL(m.error().to_string());
  const auto& ls = m->config.listeners;
  REQUIRE(ls.size() == 4);
  CHECK(ls[0].port == 1883);
  CHECK(ls[0].max_connections == 3);  // the main file's last listener, after include_dir
  CHECK(ls[1].port == 8883);
  CHECK(ls[1].kind == ListenerKind::mqtts);
  CHECK(ls[2].port == 1883);  // the default listener, opened by max_connections 7
  CHECK(ls[2].host == "0.0.0.0");
  CHECK(ls[2].max_connections == 7);
}

TEST_CASE("mosquitto.conf: errors and warnings in an included file name that file",
          "[config][mosquitto][include]") {
  ConfDir d;
  d.add("a.conf", "# fine\npid_file /run/x.pid\n");
  d.add("b.conf", "\nlistener 1883\nauth_plugin /usr/lib/x.so\n");
  auto m = d.load("include_dir " + d.dir + "\n");
  REQUIRE_FALSE(m.has_value());
  CHECK_THAT(m.error().to_string(),
             StartsWith(d.dir + "/b.conf:3: directive auth_plugin is not supported"));

  std::filesystem::remove(d.dir + "/b.conf");
  auto ok = d.load("include_dir " + d.dir + "\n");
  REQUIRE(ok.has_value());
  CHECK(warned(*ok, d.dir + "/a.conf:2: directive pid_file is not supported (ignored)"));

  // Mosquitto reads include_dir from the main file only.
  d.add("c.conf", "include_dir /nonexistent\n");
  auto nested = d.load("include_dir " + d.dir + "\n");
  REQUIRE(nested.has_value());
  CHECK(warned(*nested, d.dir + "/c.conf:1: include_dir in an included file is ignored"));
}

TEST_CASE(
    "mosquitto.conf: an include_dir that cannot be read, or holds the main file, is an "
    "error",
    "[config][mosquitto][include]") {
  ConfDir d;
  auto missing = d.load("listener 1883\ninclude_dir " + d.dir + "/none\n");
  REQUIRE_FALSE(missing.has_value());
  CHECK_THAT(missing.error().to_string(), StartsWith(d.main + ":2: cannot read include_dir"));

  write_text(d.dir + "/main.conf", "listener 1883\ninclude_dir " + d.dir + "\n");
  auto self = load_mosquitto_conf(d.dir + "/main.conf");
  REQUIRE_FALSE(self.has_value());
  CHECK_THAT(self.error().to_string(), StartsWith(d.dir + "/main.conf:2: include_dir " + d.dir +
                                                  " holds the main configuration file"));

  std::filesystem::remove(d.dir + "/main.conf");
  std::filesystem::create_directory(d.dir + "/x.conf");
  auto dir_conf = d.load("include_dir " + d.dir + "\n");
  REQUIRE_FALSE(dir_conf.has_value());
  CHECK_THAT(dir_conf.error().to_string(), StartsWith(d.dir + "/x.conf: is a directory"));
}
