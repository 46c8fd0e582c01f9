#include "broker/storage/storage_records.hpp"

#include <chrono>

#include "broker/message/message_expiry.hpp"

namespace shardmq::broker::storage_records {

namespace {

class Writer {
 public:
  template <typename T>
  Writer& num(T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i)
      out_.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF));
    return *this;
  }
  Writer& str(std::string_view s) {
    num(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  T num() {
    if (in_.size() < sizeof(T)) return fail<T>();
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      v |= std::uint64_t(static_cast<unsigned char>(in_[i])) << (8 * i);
    in_.remove_prefix(sizeof(T));
    return static_cast<T>(v);
  }
  std::string_view str() {
    auto n = num<std::uint32_t>();
    if (in_.size() < n) return fail<std::string_view>();
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  // Everything read, nothing left over.
  bool done() const { return ok_ && in_.empty(); }

 private:
  template <typename T>
  T fail() {
    ok_ = false;
    in_ = {};
    return T{};
  }
  std::string_view in_;
  bool ok_ = true;
};

std::int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string encode_message(const PublishedMessage& m) {
  std::int64_t deadline = 0;  // wall-clock ms; 0: never expires
  if (m.expires()) {
    const auto left =
        static_cast<std::int64_t>(m.expires_at_ms()) - static_cast<std::int64_t>(steady_now_ms());
    deadline = wall_now_ms() + left;
  }
  return Writer()
      .num(m.qos())
      .num(static_cast<std::uint8_t>(m.retain()))
      .num(deadline)
      .str(m.topic())
      .str(m.properties())
      .str(m.payload())
      .take();
}

PublishedMessage* decode_message(std::string_view v, bool* expired) {
  Reader r(v);
  auto qos = r.num<std::uint8_t>();
  auto retain = r.num<std::uint8_t>();
  auto deadline = r.num<std::int64_t>();
  auto topic = r.str();
  auto props = r.str();
  auto payload = r.str();
  if (!r.done() || qos > 2) return nullptr;
  PublishedMessage* m = PublishedMessage::create(topic, props, payload, qos, retain != 0, 0);
  if (!m) return nullptr;
  *expired = false;
  if (deadline != 0) {
    arm_message_expiry(*m, 0);  // finds the interval's place in the properties
    const std::int64_t left = deadline - wall_now_ms();
    *expired = left <= 0;
    if (m->expires())
      m->arm_expiry(m->expiry_offset(),
                    steady_now_ms() + static_cast<std::uint64_t>(left > 0 ? left : 0));
  }
  return m;
}

std::string encode_entry(const QueueEntry& e) {
  return Writer()
      .num(e.message_id)
      .num(e.qos)
      .num(e.packet_id)
      .num(static_cast<std::uint8_t>(e.released))
      .num(static_cast<std::uint8_t>(e.retain))
      .num(e.subscription_id)
      .take();
}

constexpr std::size_t kEntryBaseSize = 8 + 1 + 2 + 1;

std::optional<QueueEntry> decode_entry(std::string_view v) {
  Reader r(v);
  QueueEntry e;
  e.message_id = r.num<std::uint64_t>();
  e.qos = r.num<std::uint8_t>();
  e.packet_id = r.num<std::uint16_t>();
  e.released = r.num<std::uint8_t>() != 0;
  if (v.size() > kEntryBaseSize) {  // (entries written before these two fields end here)
    e.retain = r.num<std::uint8_t>() != 0;
    e.subscription_id = r.num<std::uint32_t>();
  }
  if (!r.done() || e.qos < 1 || e.qos > 2) return std::nullopt;
  return e;
}

std::string encode_session(const SessionRecord& s) {
  Writer w;
  w.num(s.expiry_s).num(static_cast<std::uint8_t>(s.username.has_value()));
  if (s.username) w.str(*s.username);
  return w.take();
}

std::optional<SessionRecord> decode_session(std::string_view v) {
  Reader r(v);
  SessionRecord s;
  s.expiry_s = r.num<std::uint32_t>();
  if (r.num<std::uint8_t>()) s.username = std::string(r.str());
  if (!r.done()) return std::nullopt;
  return s;
}

std::string encode_options(const SubscriptionOptions& o) {
  return Writer()
      .num(o.max_qos)
      .num(static_cast<std::uint8_t>(o.no_local))
      .num(static_cast<std::uint8_t>(o.retain_as_published))
      .num(o.identifier)
      .take();
}

std::optional<SubscriptionOptions> decode_options(std::string_view v) {
  Reader r(v);
  SubscriptionOptions o;
  o.max_qos = r.num<std::uint8_t>();
  o.no_local = r.num<std::uint8_t>() != 0;
  o.retain_as_published = r.num<std::uint8_t>() != 0;
  o.identifier = r.num<std::uint32_t>();
  if (!r.done() || o.max_qos > 2) return std::nullopt;
  return o;
}

}  // namespace shardmq::broker::storage_records
