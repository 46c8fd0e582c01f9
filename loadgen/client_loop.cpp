#include "loadgen/client_loop.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "loadgen/clock.hpp"

namespace shardmq::loadgen {

namespace {
constexpr std::size_t kReadBuffer = 256 * 1024;
constexpr int kMaxEvents = 512;
// A socket that keeps delivering gets a few reads per event, then others get their turn.
constexpr int kReadsPerEvent = 4;
}  // namespace

ClientLoop::ClientLoop(std::uint32_t clients, LoopHandler& handler, sockaddr_in server,
                       const TlsClientContext* tls)
    : clients_(clients),
      handler_(handler),
      server_(server),
      tls_(tls),
      reader_(client_decode_options()),
      read_buf_(kReadBuffer) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) std::abort();
  dirty_.reserve(clients);
  flushing_.reserve(clients);
  if (tls_) {
    reread_.reserve(clients);
    rereading_.reserve(clients);
  }
}

ClientLoop::~ClientLoop() {
  for (auto& c : clients_) {
    if (c.ssl) SSL_free(c.ssl);
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
  ++open_;
  if (!tls_ && !send_early(i)) return false;
  c.write_armed = c.state == ClientState::TcpConnecting || c.out.pending() > 0;
  epoll_event ev{};
  ev.events = EPOLLIN | (c.write_armed ? EPOLLOUT : 0u);
  ev.data.u64 = i;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) std::abort();
  return true;
}

bool ClientLoop::send_early(std::uint32_t i) {
  // On loopback the handshake is done by the time connect() returns, so the first packets go
  // at once, without waiting for EPOLLOUT and re-arming epoll: two system calls and a wake-up
  // fewer per client. A handshake still in flight makes send() say EAGAIN; the bytes then wait
  // in the OutBuffer for EPOLLOUT (finish_connect).
  MqttClient& c = clients_[i];
  handler_.on_tcp_connected(i);
  auto d = c.out.data();
  ssize_t n = ::send(c.fd, d.data(), d.size(), MSG_NOSIGNAL);
  if (n >= 0) {
    c.out.consume(static_cast<std::size_t>(n));
    c.last_send_ns = now_ns();
    c.state = ClientState::AwaitConnack;
    return true;
  }
  if (errno == EAGAIN || errno == EINTR) return true;
  --open_;
  ::close(c.fd);
  c.fd = -1;
  c.out.clear();
  c.state = ClientState::Closed;
  handler_.on_closed(i, CloseReason::ConnectFailed);
  return false;
}

void ClientLoop::close(std::uint32_t i, CloseReason why) {
  MqttClient& c = clients_[i];
  if (c.fd < 0) return;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
  if (c.ssl) {
    tls_close(c.ssl);
    c.ssl = nullptr;
    c.tls_read_blocked = false;
  }
  ::close(c.fd);
  c.fd = -1;
  c.state = ClientState::Closed;
  c.out.clear();
  c.partial.clear();
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
  const bool busy = !dirty_.empty() || !reread_.empty();
  int n = epoll_wait(epfd_, events.data(), kMaxEvents, busy ? 0 : timeout_ms);
  for (int k = 0; k < n; ++k) {
    on_event(static_cast<std::uint32_t>(events[static_cast<std::size_t>(k)].data.u64),
             events[static_cast<std::size_t>(k)].events);
  }
  if (!reread_.empty()) {
    rereading_.swap(reread_);
    for (std::uint32_t i : rereading_) {
      clients_[i].rereading = false;
      if (clients_[i].fd >= 0 && clients_[i].state != ClientState::TlsHandshake) read_from(i);
    }
    rereading_.clear();
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
  if (c.state == ClientState::TlsHandshake) {
    handshake(i);
    return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || (c.tls_read_blocked && (events & EPOLLOUT)))
    read_from(i);
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
  if (!tls_) {
    connected(i);
    return;
  }
  c.ssl = tls_->attach(c.fd);
  if (!c.ssl) {
    tls_failed(i, CloseReason::ConnectFailed);
    return;
  }
  c.state = ClientState::TlsHandshake;
  handshake(i);
}

void ClientLoop::connected(std::uint32_t i) {
  clients_[i].state = ClientState::AwaitConnack;
  arm_write(i, false);
  if (tls_) handler_.on_tcp_connected(i);  // plain TCP queued its bytes in send_early()
  mark_dirty(i);
}

void ClientLoop::handshake(std::uint32_t i) {
  switch (tls_handshake(clients_[i].ssl)) {
    case TlsStep::Done:
      connected(i);
      break;
    case TlsStep::WantRead:
      arm_write(i, false);
      break;
    case TlsStep::WantWrite:
      arm_write(i, true);
      break;
    case TlsStep::Closed:
    case TlsStep::Failed:
      tls_failed(i, CloseReason::ConnectFailed);
      break;
  }
}

void ClientLoop::tls_failed(std::uint32_t i, CloseReason why) {
  MqttClient& c = clients_[i];
  // Reads (and so empties) OpenSSL's error queue, which the next SSL_get_error relies on.
  std::string text = tls_error_text(c.ssl);
  if (!tls_error_reported_) {
    tls_error_reported_ = true;
    const char* when = c.state == ClientState::TlsHandshake ? "handshake" : "session";
    std::fprintf(stderr, "shardmq-load: TLS %s failed: %s\n", when, text.c_str());
  }
  close(i, why);
}

void ClientLoop::read_from(std::uint32_t i) {
  MqttClient& c = clients_[i];
  if (c.ssl) {
    read_tls(i);
    return;
  }
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
    if (!decode(i, static_cast<std::size_t>(n))) return;
    if (static_cast<std::size_t>(n) < read_buf_.size()) return;
  }
}

void ClientLoop::read_tls(std::uint32_t i) {
  MqttClient& c = clients_[i];
  c.tls_read_blocked = false;
  for (int round = 0; round < kReadsPerEvent && c.fd >= 0; ++round) {
    // Gather records until the buffer is full or the socket is empty, then decode once.
    std::size_t filled = 0;
    TlsStep step = TlsStep::Done;
    while (filled < read_buf_.size()) {
      TlsIo r = tls_read(c.ssl, std::span<std::byte>(read_buf_).subspan(filled));
      if (r.step != TlsStep::Done) {
        step = r.step;
        break;
      }
      filled += r.bytes;
    }
    if (filled > 0 && !decode(i, filled)) return;
    switch (step) {
      case TlsStep::Done:  // buffer full: another round
        break;
      case TlsStep::WantRead:
        return;
      case TlsStep::WantWrite:  // a post-handshake message must go out before more reads
        c.tls_read_blocked = true;
        arm_write(i, true);
        return;
      case TlsStep::Closed:
        close(i, CloseReason::PeerClosed);
        return;
      case TlsStep::Failed:
        tls_failed(i, CloseReason::PeerClosed);
        return;
    }
  }
  // Round limit hit: read-ahead may have left bytes in OpenSSL that epoll will not report.
  if (c.fd >= 0 && !c.rereading && SSL_has_pending(c.ssl)) {
    c.rereading = true;
    reread_.push_back(i);
  }
}

bool ClientLoop::decode(std::uint32_t i, std::size_t n) {
  MqttClient& c = clients_[i];
  bool keep = true;
  auto err = reader_.feed(c.partial, std::span<const std::byte>(read_buf_.data(), n),
                          [&](const core::Packet& p) {
                            if (keep) keep = dispatch(i, p);
                          });
  if (!keep) return false;  // dispatch closed it
  if (err != core::DecodeError::Ok) {
    close(i, CloseReason::ProtocolError);
    return false;
  }
  return true;
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
  if (c.fd < 0 || c.state == ClientState::TlsHandshake) return;
  if (c.ssl) {
    flush_tls(i);
    return;
  }
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

void ClientLoop::flush_tls(std::uint32_t i) {
  MqttClient& c = clients_[i];
  // One SSL_write pass per iteration: each call seals up to one record of the batch.
  while (c.out.pending() > 0) {
    TlsIo r = tls_write(c.ssl, c.out.data());
    if (r.step == TlsStep::Done) {
      c.out.consume(r.bytes);
      c.last_send_ns = now_ns();
      continue;
    }
    if (r.step == TlsStep::WantWrite || r.step == TlsStep::WantRead) break;
    if (r.step == TlsStep::Closed) {
      close(i, CloseReason::PeerClosed);
    } else {
      tls_failed(i, CloseReason::PeerClosed);
    }
    return;
  }
  arm_write(i, c.out.pending() > 0 || c.tls_read_blocked);
  if (c.wants_drain && c.state == ClientState::Active) handler_.on_drain(i);
}

}  // namespace shardmq::loadgen
