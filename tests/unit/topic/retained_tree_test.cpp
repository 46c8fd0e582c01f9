// RetainedTree: filter-against-stored-topics matching, the $ rule, erasure,
// byte accounting and streamed (paused/resumed) matches.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/retained_tree.hpp"

using shardmq::core::RetainedTree;

namespace {

using V = std::vector<std::string>;

V topics_matching(RetainedTree<std::string>& tree, std::string_view filter) {
  V out;
  const bool complete = tree.match(filter, [&](std::string_view topic, const std::string& value) {
    CHECK(value == "v:" + std::string(topic));
    out.emplace_back(topic);
    return true;
  });
  CHECK(complete);
  std::sort(out.begin(), out.end());
  return out;
}

RetainedTree<std::string> tree_of(std::initializer_list<const char*> topics) {
  RetainedTree<std::string> tree;
  for (const char* t : topics)
    REQUIRE(tree.set(t, "v:" + std::string(t)));
  return tree;
}

}  // namespace

TEST_CASE("filters select stored topics", "[retained]") {
  auto tree =
      tree_of({"sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player2",
               "sport/tennis/player1/ranking", "/finance", "finance", "a//b", "$SYS/load", "$SYS"});
  CHECK(topics_matching(tree, "sport/tennis/player1/#") ==
        V{"sport/tennis/player1", "sport/tennis/player1/ranking"});
  CHECK(topics_matching(tree, "sport/tennis/+") ==
        V{"sport/tennis/player1", "sport/tennis/player2"});
  CHECK(topics_matching(tree, "sport/+") == V{"sport/tennis"});
  CHECK(topics_matching(tree, "sport/#") == V{"sport", "sport/tennis", "sport/tennis/player1",
                                              "sport/tennis/player1/ranking",
                                              "sport/tennis/player2"});
  CHECK(topics_matching(tree, "+") == V{"finance", "sport"});
  CHECK(topics_matching(tree, "/+") == V{"/finance"});
  CHECK(topics_matching(tree, "+/+") == V{"/finance", "sport/tennis"});
  CHECK(topics_matching(tree, "a/+/b") == V{"a//b"});
  CHECK(topics_matching(tree, "sport/tennis/player3").empty());
  CHECK(topics_matching(tree, "finance") == V{"finance"});
}

TEST_CASE("retained: first-level wildcards skip $ topics", "[retained]") {
  auto tree = tree_of({"$SYS/load", "$SYS", "x/$y", "x"});
  CHECK(topics_matching(tree, "#") == V{"x", "x/$y"});
  CHECK(topics_matching(tree, "+/load").empty());
  CHECK(topics_matching(tree, "+") == V{"x"});
  CHECK(topics_matching(tree, "$SYS/#") == V{"$SYS", "$SYS/load"});
  CHECK(topics_matching(tree, "$SYS/+") == V{"$SYS/load"});
  CHECK(topics_matching(tree, "x/+") == V{"x/$y"});
}

TEST_CASE("set replaces, erase removes and prunes, bytes are tracked", "[retained]") {
  RetainedTree<std::string> tree;
  CHECK(tree.set("a/b/c", "12345"));
  CHECK_FALSE(tree.set("a/b/c", "12"));
  CHECK(tree.set("a", "xyz"));
  CHECK(tree.size() == 2);
  CHECK(tree.total_bytes() == 5);
  REQUIRE(tree.find("a/b/c") != nullptr);
  CHECK(*tree.find("a/b/c") == "12");
  CHECK(tree.find("a/b") == nullptr);
  CHECK_FALSE(tree.erase("a/b"));
  CHECK(tree.erase("a/b/c"));
  CHECK_FALSE(tree.erase("a/b/c"));
  CHECK(tree.node_count() == 1);
  CHECK(tree.total_bytes() == 3);
  CHECK(tree.erase("a"));
  CHECK(tree.node_count() == 0);
  CHECK(tree.size() == 0);
  CHECK(tree.total_bytes() == 0);
}

TEST_CASE("a visitor returning false stops the match", "[retained]") {
  auto tree = tree_of({"s/1", "s/2", "s/3", "s/4"});
  int seen = 0;
  CHECK_FALSE(tree.match("s/+", [&](std::string_view, const std::string&) {
    ++seen;
    return seen < 2;
  }));
  CHECK(seen == 2);
}

TEST_CASE("a cursor streams a match in chunks, each topic once", "[retained]") {
  RetainedTree<std::string> tree;
  for (int i = 0; i < 100; ++i)
    tree.set("s/" + std::to_string(i), "v:s/" + std::to_string(i));
  tree.set("s", "v:s");
  tree.set("t/1", "v:t/1");
  auto cursor = tree.start("s/#");
  V got;
  int chunks = 0;
  bool finished = false;
  while (!finished) {
    int in_chunk = 0;
    finished = tree.resume(cursor, [&](std::string_view topic, const std::string&) {
      got.emplace_back(topic);
      return ++in_chunk < 7;
    });
    ++chunks;
    REQUIRE(chunks < 100);
  }
  CHECK(cursor.done());
  CHECK(chunks == 15);  // 101 topics, 7 per chunk
  std::sort(got.begin(), got.end());
  CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
  CHECK(got.size() == 101);
}

TEST_CASE("set and erase between chunks keep a cursor valid", "[retained]") {
  RetainedTree<std::string> tree;
  for (int i = 0; i < 50; ++i)
    tree.set("s/" + std::to_string(i) + "/x", "v");
  {
    auto cursor = tree.start("s/+/x");
    V got;
    V erased;
    bool finished = false;
    while (!finished) {
      finished = tree.resume(cursor, [&](std::string_view topic, const std::string&) {
        got.emplace_back(topic);
        return false;  // one per chunk
      });
      // Erase everything not yet seen with an even number, and add new topics.
      for (int i = 0; i < 50; i += 2) {
        const std::string t = "s/" + std::to_string(i) + "/x";
        if (std::find(got.begin(), got.end(), t) == got.end() && tree.erase(t)) {
          erased.push_back(t);
        }
      }
      tree.set("s/new" + std::to_string(got.size()) + "/x", "v");
    }
    // Nothing was visited twice and no erased topic was visited.
    std::sort(got.begin(), got.end());
    CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
    for (const std::string& t : erased)
      CHECK_FALSE(std::binary_search(got.begin(), got.end(), t));
    CHECK(!erased.empty());
    CHECK(tree.node_count() == 1 + 2 * (tree.size() + erased.size()));  // pruning deferred
  }
  // Cursor gone: the erased topics' nodes are pruned.
  CHECK(tree.node_count() == 1 + 2 * tree.size());
}
