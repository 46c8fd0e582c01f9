#include "loadgen/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace shardmq::loadgen {

void Report::add(std::string key, double value, std::string unit) {
  if (!std::isfinite(value)) value = 0;
  items_.push_back({std::move(key), fmt::format("{:.3f}", value), std::move(unit), false});
}

void Report::add_int(std::string key, std::uint64_t value, std::string unit) {
  items_.push_back({std::move(key), fmt::format("{}", value), std::move(unit), false});
}

void Report::add_text(std::string key, std::string value) {
  items_.push_back({std::move(key), std::move(value), {}, true});
}

void Report::add_latency(const std::string& prefix, const Histogram& h) {
  auto us = [](double ns) { return ns / 1000.0; };
  add_int(prefix + "_samples", h.count());
  add(prefix + "_p50_us", us(static_cast<double>(h.percentile(0.50))), "us");
  add(prefix + "_p99_us", us(static_cast<double>(h.percentile(0.99))), "us");
  add(prefix + "_p999_us", us(static_cast<double>(h.percentile(0.999))), "us");
  add(prefix + "_max_us", us(static_cast<double>(h.max())), "us");
  add(prefix + "_mean_us", us(h.mean()), "us");
}

std::string Report::text() const {
  std::size_t w = 0;
  for (const auto& i : items_)
    w = std::max(w, i.key.size());
  std::string out = fmt::format("{}\n", scenario_);
  for (const auto& i : items_) {
    out += fmt::format("  {:<{}}  {}{}{}\n", i.key, w, i.value, i.unit.empty() ? "" : " ", i.unit);
  }
  return out;
}

static std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out;
}

std::string Report::json() const {
  std::string out = fmt::format("{{\"scenario\": \"{}\"", json_escape(scenario_));
  for (const auto& i : items_) {
    if (i.is_text) {
      out += fmt::format(", \"{}\": \"{}\"", json_escape(i.key), json_escape(i.value));
    } else {
      out += fmt::format(", \"{}\": {}", json_escape(i.key), i.value);
    }
  }
  out += "}\n";
  return out;
}

}  // namespace shardmq::loadgen
