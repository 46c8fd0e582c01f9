#include "broker/metrics/prometheus_text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace shardmq::broker {

namespace {

// Label values escape backslash, double quote and line feed; help text the first and last.
void escaped(std::string& out, std::string_view s, bool quotes) {
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quotes)
      out += "\\\"";
    else
      out += c;
  }
}

void number(std::string& out, double v) {
  if (std::isnan(v))
    out += "NaN";
  else if (std::isinf(v))
    out += v > 0 ? "+Inf" : "-Inf";
  else
    fmt::format_to(std::back_inserter(out), "{}", v);
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::labels(std::initializer_list<MetricLabel> labels, MetricLabel extra) {
  if (labels.size() == 0 && extra.name.empty()) return;
  out_ += '{';
  bool first = true;
  auto one = [&](const MetricLabel& l) {
    if (!first) out_ += ',';
    first = false;
    out_ += l.name;
    out_ += "=\"";
    escaped(out_, l.value, true);
    out_ += '"';
  };
  for (const MetricLabel& l : labels)
    one(l);
  if (!extra.name.empty()) one(extra);
  out_ += '}';
}

void PrometheusText::sample(std::string_view name, std::initializer_list<MetricLabel> l,
                            std::uint64_t value) {
  out_ += name;
  labels(l);
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void PrometheusText::sample(std::string_view name, std::initializer_list<MetricLabel> l,
                            double value) {
  out_ += name;
  labels(l);
  out_ += ' ';
  number(out_, value);
  out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, std::initializer_list<MetricLabel> l,
                               const Histogram::Snapshot& buckets, std::uint64_t sum,
                               double divisor, std::size_t last_bucket) {
  std::uint64_t cumulative = 0, count = 0;
  for (std::uint64_t b : buckets)
    count += b;
  std::string le;
  const std::string bucket_name = std::string(name) + "_bucket";
  for (std::size_t b = 0; b <= last_bucket && b < Histogram::kBuckets; ++b) {
    cumulative += buckets[b];
    le.clear();
    number(le, double(Histogram::upper_bound(b)) / divisor);
    out_ += bucket_name;
    labels(l, {"le", le});
    fmt::format_to(std::back_inserter(out_), " {}\n", cumulative);
  }
  out_ += bucket_name;
  labels(l, {"le", "+Inf"});
  fmt::format_to(std::back_inserter(out_), " {}\n", count);
  out_ += name;
  out_ += "_sum";
  labels(l);
  out_ += ' ';
  number(out_, double(sum) / divisor);
  out_ += '\n';
  out_ += name;
  out_ += "_count";
  labels(l);
  fmt::format_to(std::back_inserter(out_), " {}\n", count);
}

}  // namespace shardmq::broker
