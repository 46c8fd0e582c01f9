#include "broker/listener/listener.hpp"

#include <vector>

#include "io/layer_stack.hpp"
#include "io/proxy_protocol.hpp"
#include "io/tls_layer.hpp"
#include "io/websocket_layer.hpp"

namespace shardmq::broker {

Result<std::unique_ptr<ListenerRuntime>, std::string> ListenerRuntime::create(
    const ListenerConfig& c) {
  auto l = std::make_unique<ListenerRuntime>();
  l->config = c;
  if (c.uses_tls()) {
    auto ctx = io::TlsContext::create(c.tls);
    if (!ctx) return unexpected("listener " + listener_url(c) + ": " + ctx.error());
    l->tls.store(*ctx);
  }
  if (c.uses_websocket()) {
    auto ws = std::make_shared<io::WebSocketOptions>();
    ws->path = c.path.empty() ? "/mqtt" : c.path;
    ws->origins = c.origins;
    l->websocket = std::move(ws);
  }
  return l;
}

Result<void, std::string> ListenerRuntime::reload_tls() {
  auto current = tls.load();
  if (!current) return {};
  auto next = current->reload();
  if (!next) return unexpected("listener " + listener_url(config) + ": " + next.error());
  tls.store(*next);
  return {};
}

std::unique_ptr<io::StreamLayer> ListenerRuntime::make_layers() const {
  std::vector<std::unique_ptr<io::StreamLayer>> layers;
  if (config.proxy_protocol) layers.push_back(std::make_unique<io::ProxyProtocolLayer>());
  if (config.uses_tls()) layers.push_back(std::make_unique<io::TlsLayer>(tls.load()));
  if (config.uses_websocket()) layers.push_back(std::make_unique<io::WebSocketLayer>(websocket));
  if (layers.empty()) return nullptr;
  if (layers.size() == 1) return std::move(layers.front());
  return std::make_unique<io::LayerStack>(std::move(layers));
}

}  // namespace shardmq::broker
