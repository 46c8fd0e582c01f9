#include "broker/http/http_server.hpp"

#include <algorithm>

#include "broker/auth/base64.hpp"
#include "broker/auth/password_authenticator.hpp"
#include "broker/listener/listener.hpp"
#include "broker/log.hpp"

namespace shardmq::broker {

struct HttpServer::Exchange {
  io::SocketId socket = io::kInvalidSocket;
  std::uint32_t serial = 0;
  std::uint16_t listener = 0;
  bool basic_auth = false;
  bool sending = false;    // a response is being written
  bool keep_alive = true;  // after it, read the next request
  bool closing = false;    // Loop::close called: wait for on_closed
  bool authenticating = false;
  std::uint64_t deadline_tick = 0;
  std::string peer;  // the source address, for the authenticator's failure limits
  std::string in;    // received, not yet answered
  std::string head;  // the response's status line and headers
  std::string body;  // a generated body (or empty, and static_body)
  std::string_view static_body;
  std::size_t sent = 0;  // of head + body
};

HttpServer::HttpServer(ShardContext& ctx, MetricsSources sources, AuthServices* auth,
                       std::function<void()> wake)
    : ctx_(ctx), sources_(sources) {
  const bool wants_auth = std::any_of(ctx.config.listeners.begin(), ctx.config.listeners.end(),
                                      [](const ListenerConfig& l) { return l.basic_auth; });
  if (wants_auth && auth)
    authenticator_ = std::make_unique<PasswordAuthenticator>(ctx.config, *auth, std::move(wake));
}

HttpServer::~HttpServer() {
  for (auto& [serial, x] : open_)
    delete x;
}

HttpServer::Exchange* HttpServer::from(void* ctx) {
  return reinterpret_cast<Exchange*>(reinterpret_cast<std::uintptr_t>(ctx) & ~std::uintptr_t(1));
}

void HttpServer::accept(std::uint32_t listener, io::SocketId socket, const io::PeerAddress& peer) {
  if (open_.size() >= kMaxConnections) {
    log_warn("http: refusing a connection from {}: {} already open on this shard", peer.to_string(),
             open_.size());
    loop_->close(socket);
    return;
  }
  auto* x = new Exchange;
  x->socket = socket;
  x->serial = next_serial_++;
  x->listener = static_cast<std::uint16_t>(listener);
  x->basic_auth =
      listener < ctx_.config.listeners.size() && ctx_.config.listeners[listener].basic_auth;
  x->peer = peer.host();
  x->deadline_tick = ctx_.tick + ShardContext::ms_to_ticks(kIdleTimeoutMs);
  open_.emplace(x->serial, x);
  loop_->start(socket, reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(x) | 1));
}

void HttpServer::on_data(void* ctx, std::span<const std::byte> data) {
  Exchange& x = *from(ctx);
  if (x.closing) return;
  x.in.append(reinterpret_cast<const char*>(data.data()), data.size());
  x.deadline_tick = ctx_.tick + ShardContext::ms_to_ticks(kIdleTimeoutMs);
  if (!x.sending && !x.authenticating) serve(x);
}

void HttpServer::serve(Exchange& x) {
  auto parsed = io::parse_http_request_head(x.in, kMaxRequestHead);
  switch (parsed.status) {
    case io::HttpParseStatus::need_more:
      return;
    case io::HttpParseStatus::too_large:
      return answer(x, http_error(431, "the request head is over 8 KiB"), false);
    case io::HttpParseStatus::bad_request:
      return answer(x, http_error(400, parsed.error), false);
    case io::HttpParseStatus::complete:
      break;
  }
  const io::HttpRequestHead& req = parsed.head;
  auto connection = req.field("Connection");
  x.keep_alive = req.minor_version == 1
                     ? !(connection && io::http_iequals(*connection, "close"))
                     : (connection && io::http_iequals(*connection, "keep-alive"));
  if (x.basic_auth && !authorised(x, req)) return;
  HttpRouteContext rc{sources_, ctx_.config, io_backend_, assets_};
  HttpResponse r = route_http_request(req, rc);
  const bool head_only = req.method == "HEAD";
  x.in.erase(0, req.consumed);
  answer(x, std::move(r), head_only);
}

bool HttpServer::authorised(Exchange& x, const io::HttpRequestHead& req) {
  auto value = req.field("Authorization");
  auto refuse = [&](std::string_view why) {
    x.in.erase(0, req.consumed);
    answer(x, http_error(401, why), req.method == "HEAD");
    return false;
  };
  if (!value) return refuse("this listener asks for a user name and password (basic auth)");
  if (auto it = trusted_.find(std::string(*value)); it != trusted_.end()) {
    if (ctx_.tick < it->second) return true;
    trusted_.erase(it);
  }
  std::string_view v = *value;
  if (v.size() < 6 || !io::http_iequals(v.substr(0, 6), "Basic "))
    return refuse("only the Basic scheme is understood");
  auto decoded = decode_base64(v.substr(6), Base64Padding::required);
  std::string_view pair =
      decoded ? std::string_view(reinterpret_cast<const char*>(decoded->data()), decoded->size())
              : std::string_view();
  std::size_t colon = pair.find(':');
  if (!decoded || colon == std::string_view::npos) return refuse("malformed basic credentials");
  if (!authenticator_) return refuse("no password file to check against");
  x.authenticating = true;
  ConnectCredentials who;
  who.client_id = "(http)";
  who.username = pair.substr(0, colon);
  who.password = std::span<const std::byte>(
      reinterpret_cast<const std::byte*>(pair.data() + colon + 1), pair.size() - colon - 1);
  who.peer_address = x.peer;
  who.listener = x.listener;
  pending_auth_[x.serial] = std::string(*value);
  authenticator_->authenticate(who, x.serial, *this);  // may answer at once
  return false;
}

void HttpServer::on_authenticated(std::uint32_t serial, AuthVerdict verdict) {
  auto pending = pending_auth_.find(serial);
  if (pending == pending_auth_.end()) return;
  std::string value = std::move(pending->second);
  pending_auth_.erase(pending);
  auto it = open_.find(serial);
  if (it == open_.end() || it->second->closing) return;
  Exchange& x = *it->second;
  x.authenticating = false;
  if (verdict != AuthVerdict::accepted) {
    auto parsed = io::parse_http_request_head(x.in, kMaxRequestHead);
    x.in.erase(0, parsed.head.consumed);
    return answer(x, http_error(401, "bad user name or password"), parsed.head.method == "HEAD");
  }
  if (trusted_.size() >= 64) trusted_.clear();  // a bound, not a cache policy worth more
  trusted_[value] = ctx_.tick + ShardContext::ms_to_ticks(60000);
  serve(x);
}

void HttpServer::deliver_answers() {
  if (authenticator_) authenticator_->deliver_answers();
}

void HttpServer::answer(Exchange& x, HttpResponse r, bool head_only) {
  if (r.close) x.keep_alive = false;
  x.head = http_response_head(r, x.keep_alive);
  x.body = head_only ? std::string() : std::move(r.body);
  x.static_body = head_only ? std::string_view() : r.static_body;
  x.sent = 0;
  x.sending = true;
  send_more(x);
}

void HttpServer::send_more(Exchange& x) {
  std::string_view body = x.body.empty() ? x.static_body : std::string_view(x.body);
  iovec iov[2];
  int n = 0;
  if (x.sent < x.head.size()) iov[n++] = {x.head.data() + x.sent, x.head.size() - x.sent};
  std::size_t body_sent = x.sent > x.head.size() ? x.sent - x.head.size() : 0;
  if (body_sent < body.size())
    iov[n++] = {const_cast<char*>(body.data()) + body_sent, body.size() - body_sent};
  loop_->send(x.socket, iov, n);
}

void HttpServer::on_sent(void* ctx, std::size_t bytes) {
  Exchange& x = *from(ctx);
  if (x.closing) return;
  x.sent += bytes;
  std::size_t total = x.head.size() + (x.body.empty() ? x.static_body.size() : x.body.size());
  if (x.sent < total) return send_more(x);
  x.sending = false;
  x.head.clear();
  x.body.clear();
  x.static_body = {};
  if (!x.keep_alive) return close(x);
  x.deadline_tick = ctx_.tick + ShardContext::ms_to_ticks(kIdleTimeoutMs);
  if (!x.in.empty()) serve(x);  // a request sent before this answer was complete
}

void HttpServer::on_peer_closed(void* ctx) {
  close(*from(ctx));
}

void HttpServer::close(Exchange& x) {
  if (x.closing) return;
  x.closing = true;
  loop_->close(x.socket);
}

void HttpServer::on_closed(void* ctx) {
  Exchange* x = from(ctx);
  open_.erase(x->serial);
  delete x;
}

void HttpServer::on_tick() {
  std::vector<Exchange*> idle;
  for (auto& [serial, x] : open_)
    if (!x->closing && ctx_.tick >= x->deadline_tick) idle.push_back(x);
  for (Exchange* x : idle)
    close(*x);
}

void HttpServer::close_all() {
  std::vector<Exchange*> all;
  for (auto& [serial, x] : open_)
    all.push_back(x);
  for (Exchange* x : all)
    close(*x);
}

}  // namespace shardmq::broker
