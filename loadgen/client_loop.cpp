#include "loadgen/client_loop.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdlib>

#include "loadgen/clock.hpp"

namespace shardmq::loadgen {

namespace {
constexpr std::size_t kReadBuffer = 256 * 1024;
constexpr int kMaxEvents = 512;
// A socket that keeps delivering gets a few reads per event, then others get their turn.
constexpr int kReadsPerEvent = 4;
}  // namespace

ClientLoop::ClientLoop(std::uint32_t clients, LoopHandler& handler, sockaddr_in server)
    : clients_(clients), handler_(handler), server_(server), read_buf_(kReadBuffer) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) std::abort();
  dirty_.reserve(clients);
  flushing_.reserve(clients);
}

ClientLoop::~ClientLoop() {
  for (auto& c : clients_) {
    if (c.fd >= 0) ::close(c.fd);
  }
  ::close(epfd_);
}

bool ClientLoop::open(std::uint32_t i, std::optional<in_addr> source) {
  MqttClient& c = clients_[i];
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    c.state = ClientState::Closed;
    handler_.on_closed(i, CloseReason::ConnectFailed);
    return false;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (source) {
    // Let connect() pick the port per 4-tuple, so each source address gives a full
    // ephemeral range towards the broker instead of one port per bind.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr = *source;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      ::close(fd);
      c.state = ClientState::Closed;
      handler_.on_closed(i, CloseReason::ConnectFailed);
      return false;
    }
  }
  int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&server_), sizeof server_);
  if (r != 0 && errno != EINPROGRESS) {
    ::close(fd);
    c.state = ClientState::Closed;
    handler_.on_closed(i, CloseReason::ConnectFailed);
    return false;
  }
  c.fd = fd;
  c.state = ClientState::TcpConnecting;
  c.write_armed = true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = i;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) std::abort();
  ++open_;
  return true;
}

void ClientLoop::close(std::uint32_t i, CloseReason why) {
  MqttClient& c = clients_[i];
  if (c.fd < 0) return;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  c.fd = -1;
  c.state = ClientState::Closed;
  c.out.clear();
  --open_;
  handler_.on_closed(i, why);
}

std::size_t ClientLoop::unsent(std::uint32_t i) {
  MqttClient& c = clients_[i];
  int queued = 0;
  if (c.fd >= 0 && ioctl(c.fd, SIOCOUTQ, &queued) != 0) queued = 0;
  return c.out.pending() + static_cast<std::size_t>(queued);
}

void ClientLoop::mark_dirty(std::uint32_t i) {
  MqttClient& c = clients_[i];
  if (c.dirty || c.fd < 0) return;
  c.dirty = true;
  dirty_.push_back(i);
}

void ClientLoop::arm_write(std::uint32_t i, bool on) {
  MqttClient& c = clients_[i];
  if (c.write_armed == on) return;
  c.write_armed = on;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u64 = i;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void ClientLoop::run_once(int timeout_ms) {
  std::array<epoll_event, kMaxEvents> events;
  int n = epoll_wait(epfd_, events.data(), kMaxEvents, dirty_.empty() ? timeout_ms : 0);
  for (int k = 0; k < n; ++k) {
    on_event(static_cast<std::uint32_t>(events[static_cast<std::size_t>(k)].data.u64),
             events[static_cast<std::size_t>(k)].events);
  }
  // Clients dirtied while flushing (on_drain refills) are written next iteration.
  flushing_.swap(dirty_);
  for (std::uint32_t i : flushing_) {
    clients_[i].dirty = false;
    flush(i);
  }
  flushing_.clear();
}

void ClientLoop::on_event(std::uint32_t i, std::uint32_t events) {
  MqttClient& c = clients_[i];
  if (c.fd < 0) return;
  if (c.state == ClientState::TcpConnecting) {
    finish_connect(i);
    return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_from(i);
  if (c.fd >= 0 && (events & EPOLLOUT)) flush(i);
}

void ClientLoop::finish_connect(std::uint32_t i) {
  MqttClient& c = clients_[i];
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    close(i, CloseReason::ConnectFailed);
    return;
  }
  c.state = ClientState::AwaitConnack;
  arm_write(i, false);
  handler_.on_tcp_connected(i);
  mark_dirty(i);
}

void ClientLoop::read_from(std::uint32_t i) {
  MqttClient& c = clients_[i];
  for (int round = 0; round < kReadsPerEvent && c.fd >= 0; ++round) {
    ssize_t n = ::read(c.fd, read_buf_.data(), read_buf_.size());
    if (n == 0) {
      close(i, CloseReason::PeerClosed);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      close(i, CloseReason::PeerClosed);
      return;
    }
    bool keep = true;
    auto err =
        c.decoder.feed(std::span<const std::byte>(read_buf_.data(), static_cast<std::size_t>(n)),
                       [&](const core::Packet& p) {
                         if (keep) keep = dispatch(i, p);
                       });
    if (!keep) return;  // dispatch closed it
    if (err != core::DecodeError::Ok) {
      close(i, CloseReason::ProtocolError);
      return;
    }
    if (static_cast<std::size_t>(n) < read_buf_.size()) return;
  }
}

bool ClientLoop::dispatch(std::uint32_t i, const core::Packet& p) {
  MqttClient& c = clients_[i];
  switch (core::packet_type(p)) {
    case core::PacketType::ConnAck: {
      const auto& ack = std::get<core::ConnAck>(p);
      if (ack.reason_code != core::ReasonCode::Success) {
        close(i, CloseReason::Refused);
        return false;
      }
      c.state = ClientState::Active;
      handler_.on_connack(i);
      break;
    }
    case core::PacketType::SubAck: {
      for (auto rc : std::get<core::SubAck>(p).reason_codes) {
        if (static_cast<std::uint8_t>(rc) >= 0x80) {
          close(i, CloseReason::Refused);
          return false;
        }
      }
      c.subscribed = true;
      handler_.on_suback(i);
      break;
    }
    case core::PacketType::Publish: {
      const auto& pub = std::get<core::Publish>(p);
      if (pub.qos == core::QoS::AtLeastOnce) {
        c.queue_ack(core::PacketType::PubAck, pub.packet_id);
      } else if (pub.qos == core::QoS::ExactlyOnce) {
        c.queue_ack(core::PacketType::PubRec, pub.packet_id);
      }
      if (pub.qos != core::QoS::AtMostOnce) mark_dirty(i);
      handler_.on_publish(i, pub);
      break;
    }
    case core::PacketType::PubRel:
      c.queue_ack(core::PacketType::PubComp, std::get<core::PubRel>(p).packet_id);
      mark_dirty(i);
      break;
    case core::PacketType::PubRec:
      c.queue_ack(core::PacketType::PubRel, std::get<core::PubRec>(p).packet_id);
      mark_dirty(i);
      break;
    case core::PacketType::PubAck:
      handler_.on_ack(i, std::get<core::PubAck>(p).packet_id);
      break;
    case core::PacketType::PubComp:
      handler_.on_ack(i, std::get<core::PubComp>(p).packet_id);
      break;
    case core::PacketType::Disconnect:
      close(i, CloseReason::PeerClosed);
      return false;
    default:  // PINGRESP, UNSUBACK: nothing to do
      break;
  }
  return c.fd >= 0;
}

void ClientLoop::flush(std::uint32_t i) {
  MqttClient& c = clients_[i];
  if (c.fd < 0) return;
  while (c.out.pending() > 0) {
    auto d = c.out.data();
    ssize_t n = ::send(c.fd, d.data(), d.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      close(i, CloseReason::PeerClosed);
      return;
    }
    c.out.consume(static_cast<std::size_t>(n));
    c.last_send_ns = now_ns();
  }
  arm_write(i, c.out.pending() > 0);
  if (c.wants_drain && c.state == ClientState::Active) handler_.on_drain(i);
}

}  // namespace shardmq::loadgen
