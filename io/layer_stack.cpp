#include "io/layer_stack.hpp"

namespace shardmq::io {

LayerStack::LayerStack(std::vector<std::unique_ptr<StreamLayer>> layers)
    : layers_(std::move(layers)) {}

bool LayerStack::send_down(std::size_t above, ByteBlock& bytes, ByteBlock& wire_out) {
  ByteBlock cur;
  cur.swap(bytes);
  for (std::size_t j = above; j-- > 0;) {
    ByteBlock next;
    if (!layers_[j]->on_app_data({cur.data(), cur.size()}, next)) {
      error_ = layers_[j]->error();
      return false;
    }
    cur.swap(next);
  }
  wire_out.append(cur.data(), cur.size());
  return true;
}

bool LayerStack::on_wire_data(std::span<const std::byte> in, ByteBlock& app_in,
                              ByteBlock& wire_out) {
  std::span<const std::byte> cur = in;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const bool top = i + 1 == layers_.size();
    ByteBlock& out = top ? app_in : scratch_[i % 2];
    if (!top) out.clear();
    ByteBlock reply;
    bool ok = layers_[i]->on_wire_data(cur, out, reply);
    if (!reply.empty() && !send_down(i, reply, wire_out)) return false;
    if (!ok) {
      error_ = layers_[i]->error();
      return false;
    }
    if (!top) cur = {out.data(), out.size()};
  }
  return true;
}

bool LayerStack::on_app_data(std::span<const std::byte> out, ByteBlock& wire_out) {
  ByteBlock top;
  top.append(out.data(), out.size());
  return send_down(layers_.size(), top, wire_out);
}

void LayerStack::close(ByteBlock& wire_out) {
  for (std::size_t i = layers_.size(); i-- > 0;) {
    ByteBlock bye;
    layers_[i]->close(bye);
    if (!bye.empty() && !send_down(i, bye, wire_out)) return;
  }
}

bool LayerStack::handshake_done() const {
  for (const auto& l : layers_)
    if (!l->handshake_done()) return false;
  return true;
}

std::string LayerStack::peer_identity() const {
  // The most specific identity: a certificate name over a PROXY source address.
  for (std::size_t i = layers_.size(); i-- > 0;)
    if (auto id = layers_[i]->peer_identity(); !id.empty()) return id;
  return {};
}

std::string LayerStack::peer_certificate_name() const {
  for (const auto& l : layers_)
    if (auto n = l->peer_certificate_name(); !n.empty()) return n;
  return {};
}

std::string LayerStack::peer_source_address() const {
  for (const auto& l : layers_)
    if (auto a = l->peer_source_address(); !a.empty()) return a;
  return {};
}

std::string LayerStack::peer_certificate_subject() const {
  for (const auto& l : layers_)
    if (auto n = l->peer_certificate_subject(); !n.empty()) return n;
  return {};
}

}  // namespace shardmq::io
