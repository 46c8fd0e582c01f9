// The command line around configuration files: --mosquitto-conf, --print-config and
// --check-config, and their exit codes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "broker/config/command_line.hpp"
#include "tests/unit/auth/temp_dir.hpp"

using namespace shardmq::broker;
using shardmq::test::TempDir;
using shardmq::test::write_text;

namespace {

CommandLine run(std::vector<std::string> args) {
  args.insert(args.begin(), "shardmq");
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(args.size()), argv.data());
}

}  // namespace

TEST_CASE(
    "command line: --mosquitto-conf translates the file and keeps its warnings for the "
    "log",
    "[config][command_line]") {
  TempDir tmp;
  REQUIRE(tmp.ok());
  const std::string conf = tmp.file("mosquitto.conf");
  write_text(conf, "pid_file /run/m.pid\nlistener 1884 127.0.0.1\nallow_anonymous true\n");
  CommandLine cl = run({"--mosquitto-conf", conf});
  CHECK_FALSE(cl.exit_now);
  REQUIRE(cl.config.listeners.size() == 1);
  CHECK(listener_url(cl.config.listeners[0]) == "mqtt://127.0.0.1:1884");
  CHECK(cl.config.max_inflight == 20);
  CHECK(cl.warnings ==
        std::vector<std::string>{conf + ":1: directive pid_file is not supported (ignored)"});

  // Flags still apply on top.
  CommandLine flags = run({"--mosquitto-conf", conf, "--listen", "127.0.0.1:1999", "--shards", "2",
                           "--sys-interval", "3"});
  REQUIRE(flags.config.listeners.size() == 1);
  CHECK(flags.config.listeners[0].port == 1999);
  CHECK(flags.config.shards == 2);
  CHECK(flags.config.sys_interval_s == 3);

  // Enforced, so nothing to warn about.
  write_text(conf, "listener 1884\nretain_available false\nmessage_size_limit 100\n");
  CommandLine limits = run({"--mosquitto-conf", conf});
  CHECK(limits.warnings.empty());
  CHECK(!limits.config.retain_available);
  CHECK(limits.config.message_size_limit == 100);

  write_text(conf, "listener 1884\nauth_plugin /x.so\n");
  CommandLine refused = run({"--mosquitto-conf", conf});
  CHECK(refused.exit_now);
  CHECK(refused.exit_code == 2);

  CommandLine both = run({"--mosquitto-conf", conf, "--config", conf});
  CHECK(both.exit_now);
  CHECK(both.exit_code != 0);
}

TEST_CASE("command line: --check-config exits 0 for a good file and 1 for a bad one",
          "[config][command_line]") {
  TempDir tmp;
  REQUIRE(tmp.ok());
  const std::string good = tmp.file("good.toml"), bad = tmp.file("bad.toml");
  write_text(good, "[broker]\nshards = 1\n");
  write_text(bad, "[broker]\nshards = \"one\"\n");
  CommandLine ok = run({"--check-config", good});
  CHECK(ok.exit_now);
  CHECK(ok.exit_code == 0);
  CHECK(run({"--config", good, "--check-config"}).exit_code == 0);
  CommandLine wrong = run({"--check-config", bad});
  CHECK(wrong.exit_now);
  CHECK(wrong.exit_code == 1);
  CHECK(run({"--check-config", tmp.file("missing.toml")}).exit_code == 1);
  CHECK(run({"--check-config", good, "--config", good}).exit_code == 1);
  CHECK(run({"--config", tmp.file("missing.toml"), "--check-config"}).exit_code == 1);
  CHECK(run({"--check-config", good, "--no-such-flag"}).exit_code == 1);

  const std::string conf = tmp.file("mosquitto.conf");
  write_text(conf, "listener 1884\n");
  CHECK(run({"--mosquitto-conf", conf, "--check-config"}).exit_code == 0);
  write_text(conf, "listener 1884\npsk_file /x\n");
  CHECK(run({"--mosquitto-conf", conf, "--check-config"}).exit_code == 1);

  // The files the configuration names are loaded too.
  write_text(conf, "listener 8883\ncertfile " + tmp.file("none.crt") + "\nkeyfile " +
                       tmp.file("none.key") + "\n");
  CHECK(run({"--mosquitto-conf", conf, "--check-config"}).exit_code == 1);
  write_text(conf, "listener 1884\npassword_file " + tmp.file("no-passwd") + "\n");
  CHECK(run({"--mosquitto-conf", conf, "--check-config"}).exit_code == 1);
  write_text(tmp.file("passwd"), "# nobody yet\n");
  write_text(conf, "listener 1884\npassword_file " + tmp.file("passwd") + "\n");
  CHECK(run({"--mosquitto-conf", conf, "--check-config"}).exit_code == 0);
}

TEST_CASE("command line: --print-config prints and exits 0", "[config][command_line]") {
  CommandLine cl = run({"--print-config", "--shards", "2"});
  CHECK(cl.exit_now);
  CHECK(cl.exit_code == 0);
  CHECK(cl.config.shards == 2);
}

TEST_CASE("command line: --shards is at most 64 (a shard's interest is one bit of a mask)",
          "[config][command_line]") {
  CHECK(run({"--shards", "64", "--print-config"}).config.shards == 64);
  CommandLine more = run({"--shards", "65"});
  CHECK(more.exit_now);
  CHECK(more.exit_code != 0);
}

TEST_CASE("command line: --durability and --data-dir set [storage] over the file's",
          "[config][command_line]") {
  TempDir tmp;
  REQUIRE(tmp.ok());
  const std::string file = tmp.file("shardmq.toml");
  write_text(file, "[storage]\ndurability = \"batched\"\npath = \"from-file\"\n");
  CommandLine from_file = run({"--config", file});
  CHECK(from_file.config.durability == Config::Durability::batched);
  CHECK(from_file.config.storage_path == "from-file");

  CommandLine flags = run({"--config", file, "--durability", "sync", "--data-dir", "/tmp/x"});
  CHECK_FALSE(flags.exit_now);
  CHECK(flags.config.durability == Config::Durability::sync);
  CHECK(flags.config.storage_path == "/tmp/x");

  CommandLine bad = run({"--durability", "always"});
  CHECK(bad.exit_now);
  CHECK(bad.exit_code != 0);
}

TEST_CASE("command line: [storage] on_corruption is refuse unless the file says move-aside",
          "[config][command_line]") {
  TempDir tmp;
  REQUIRE(tmp.ok());
  CHECK(run({}).config.on_corruption == Config::OnCorruption::refuse);
  const std::string file = tmp.file("shardmq.toml");
  write_text(file, "[storage]\non_corruption = \"move-aside\"\n");
  CHECK(run({"--config", file}).config.on_corruption == Config::OnCorruption::move_aside);
  write_text(file, "[storage]\non_corruption = \"repair\"\n");
  CommandLine bad = run({"--config", file});
  CHECK(bad.exit_now);
  CHECK(bad.exit_code == 2);
}
