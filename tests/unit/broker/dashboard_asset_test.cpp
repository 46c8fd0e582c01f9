// The dashboard built into the binary: served at the paths the page asks for, with the
// right types, and self-contained (nothing fetched from another origin).
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "broker/http/dashboard_asset.hpp"

using namespace shardmq::broker;

namespace {
std::string body_of(std::string_view path) {
  const HttpAsset* a = find_dashboard_asset(path);
  REQUIRE(a != nullptr);
  return std::string(a->body);
}
}  // namespace

TEST_CASE("dashboard assets: the page and the files it names") {
  const HttpAsset* root = find_dashboard_asset("/");
  REQUIRE(root != nullptr);
  CHECK(root->content_type == "text/html; charset=utf-8");
  CHECK(find_dashboard_asset("/index.html")->body.data() == root->body.data());
  CHECK(find_dashboard_asset("/dashboard.js")->content_type == "text/javascript; charset=utf-8");
  CHECK(find_dashboard_asset("/dashboard.css")->content_type == "text/css; charset=utf-8");
  CHECK(find_dashboard_asset("/nope") == nullptr);
  CHECK(find_dashboard_asset("") == nullptr);
  CHECK(find_dashboard_asset("/dashboard") == nullptr);

  const std::string page(root->body);
  CHECK(page.starts_with("<!doctype html>"));
  // Every file the page loads is one the broker serves.
  const std::regex ref(R"re((?:src|href)="(/[^"]*)")re");
  int refs = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), ref); it != std::sregex_iterator();
       ++it) {
    const std::string path = (*it)[1];
    ++refs;
    INFO(path);
    const bool served =
        find_dashboard_asset(path) != nullptr || path == "/metrics" || path == "/status.json";
    CHECK(served);
  }
  CHECK(refs >= 4);
}

TEST_CASE("dashboard assets: no other origin, every figure the page shows is filled in") {
  const std::string page = body_of("/"), script = body_of("/dashboard.js"),
                    style = body_of("/dashboard.css");
  for (const std::string* text : {&page, &script, &style}) {
    CHECK(text->find("http://") == std::string::npos);
    CHECK(text->find("https://") == std::string::npos);
    CHECK(text->find("src=\"//") == std::string::npos);
    CHECK(text->find("@import") == std::string::npos);
  }
  const std::regex figure(R"re(data-metric="([a-z0-9_]+)")re");
  int figures = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), figure);
       it != std::sregex_iterator(); ++it) {
    const std::string key = (*it)[1];
    ++figures;
    INFO(key);
    CHECK(script.find("'" + key + "'") != std::string::npos);
  }
  CHECK(figures >= 15);
  CHECK(script.find("window.dashboardState") != std::string::npos);
}
