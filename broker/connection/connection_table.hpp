// The connections a shard accepted: their slab and index by serial, the output they queue
// (packets and publishes encoded into each connection's OutBuffer, flushed once per turn),
// receive pausing, the connect-timeout and keepalive timers, and closing.
//
// Owns: every Connection of the shard, the flush list, the connection timers.
// Calls: the event loop, and ConnectionEvents (the protocol) when a connection ends.
// Called by: the shard (loop callbacks), the protocol, the session store (deliveries to a
// socket on this shard), the mesh link (pausing a publisher).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/connection/connection.hpp"
#include "broker/connection/connection_events.hpp"
#include "broker/listener/listener.hpp"
#include "broker/shard/shard_context.hpp"
#include "core/intrusive_hash_index.hpp"
#include "core/packets.hpp"
#include "io/loop.hpp"
#include "io/slab.hpp"
#include "io/timer_wheel.hpp"

namespace shardmq::broker {

class ConnectionTable {
 public:
  enum class CloseKind { graceful, abrupt };

  ConnectionTable(ShardContext& ctx,
                  const std::vector<std::unique_ptr<ListenerRuntime>>& listeners);
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  void attach(io::Loop* loop, ConnectionEvents* events) {
    loop_ = loop;
    events_ = events;
  }

  // A socket the loop accepted: a new connection, or null when a limit refuses it (the
  // socket is closed then).
  Connection* accept(std::uint32_t listener, io::SocketId socket, const io::PeerAddress& peer);
  Connection* find(std::uint32_t serial) { return connections_.find(serial); }
  std::size_t size() const { return connections_.size(); }
  bool empty() const { return connections_.empty(); }
  template <typename F>
  void for_each(F&& f) {
    std::vector<Connection*> all;  // f may close (and so unlink) connections
    connections_.for_each([&](Connection* c) { all.push_back(c); });
    for (Connection* c : all)
      f(*c);
  }

  // Output. Each appends to the connection's pending bytes and schedules a flush.
  bool send_packet(Connection& c, const core::Packet& p);
  // MQTT 5 clients hear why the server closes their connection (and `why`, as a Reason
  // String); 3.1.x has no way to say it.
  void send_disconnect(Connection& c, core::ReasonCode reason, std::string_view why = {});
  // The reason code the connection ends with, for its disconnect log line: what the broker
  // sent (send_disconnect notes it, also for 3.1.x clients, who are not told) or what an
  // MQTT 5 client's DISCONNECT said. Kept only while the log shows info lines.
  void note_close_reason(const Connection& c, core::ReasonCode reason);
  // A PUBLISH from its parts, written straight into the output (the message path: no
  // Packet, no copy but into the output). False when dropped: too large for the client
  // (a QoS 1/2 one is then listed for take_too_large), or QoS 0 to an output already over
  // its limit.
  bool write_publish(Connection& c, std::string_view topic, std::string_view properties,
                     std::string_view payload, std::uint8_t qos, std::uint16_t packet_id, bool dup,
                     bool retain, std::uint32_t subscription_id);
  // QoS 1/2 messages dropped as too large since the last call: (connection serial, packet
  // id) each, for the protocol to finish with their sessions.
  std::vector<std::pair<std::uint32_t, std::uint16_t>> take_too_large() {
    return std::exchange(too_large_, {});
  }
  void schedule_flush(Connection& c);
  void flush_all();  // end of turn: one send per connection with output
  std::size_t output_queued(const Connection& c) const { return c.out.queued(); }

  // The source address (IP) of a connection that has not completed CONNECT yet, when the
  // broker authenticates or limits the connect rate (for those limits and logs); ""
  // otherwise. Kept aside, not in
  // Connection, and only until the CONNACK: a million idle clients do not pay for it.
  std::string_view peer_address(const Connection& c) const;
  void forget_peer_address(const Connection& c);

  // Applies c.ring_paused / c.home_paused / c.overload_paused to the loop (told only of
  // changes).
  void update_receive_pause(Connection& c);
  // A session's full queue holds the publisher `serial` back (on), or lets it go: its
  // receive is paused while at least one session holds it. Unknown serials are ignored.
  void hold_publisher(std::uint32_t serial, bool on);

  // Timers: the CONNECT deadline is set on accept; keepalive once connected (0: none).
  void arm_keepalive(Connection& c);
  // The CONNECT arrived and waits for a verdict: close it if none comes within `seconds`.
  void arm_login_deadline(Connection& c, std::uint32_t seconds);
  void on_tick();

  // Closing: graceful says goodbye (flushes what is queued first), abrupt does not.
  void close(Connection& c, CloseKind kind);
  // Closes a socket that is already closing but waits for its output to flush.
  void close_now_if_flushing(Connection& c);
  // Loop callbacks for a connection's socket.
  void on_sent(Connection& c, std::size_t bytes);
  void on_peer_closed(Connection& c);
  void on_closed(Connection& c);  // frees it

 private:
  void log_disconnected(const Connection& c);
  void flush(Connection& c);
  bool flush_layer_output(Connection& c);
  void on_timer(Connection& c);

  ShardContext& ctx_;
  // Copied from the context: one load each on the message path, not two.
  const Config& config_;
  ShardCounters& counters_;
  const std::vector<std::unique_ptr<ListenerRuntime>>& listeners_;
  io::Loop* loop_ = nullptr;
  ConnectionEvents* events_ = nullptr;

  io::Slab<Connection> slab_{64};  // small pages: each of many shards keeps a partly used one
  struct BySerial {
    static std::uint32_t key(const Connection& c) { return c.serial; }
    static Connection*& next(Connection& c) { return c.index_next; }
    static std::size_t hash(std::uint32_t serial) { return serial; }  // serials are sequential
  };
  core::IntrusiveHashIndex<Connection, BySerial> connections_;
  std::uint32_t next_serial_ = 1;
  std::vector<Connection*> flush_list_;
  std::vector<std::pair<std::uint32_t, std::uint16_t>> too_large_;  // see take_too_large
  std::vector<std::uint32_t> listener_connections_;                 // open connections per listener
  const bool keep_peers_;                                           // the broker authenticates
  std::unordered_map<std::uint32_t, std::string> peers_;            // by serial, until CONNACK
  // By serial, from note_close_reason until close: a side table, not a Connection field,
  // since only closing connections have one (Connection's size is per million).
  std::unordered_map<std::uint32_t, core::ReasonCode> close_reasons_;
  io::TimerWheel timers_;  // connect timeout, then keepalive
};

}  // namespace shardmq::broker
