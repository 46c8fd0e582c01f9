"""A broker (shardmq or Mosquitto) with several listeners: mqtt, mqtts, ws and wss, each on its
own free port, plus the clients that reach them over TLS and WebSocket.

shardmq runs as
  shardmq --listen mqtt://H:P --listen mqtts://H:P --listen ws://H:P/mqtt ... \
          --tls-cert C --tls-key K [--tls-ca CA --tls-client-cert none|optional|required] \
          --shards N --io IO --log-level info
Mosquitto gets one `listener` block per scheme (websockets, certfile/keyfile/cafile,
require_certificate)."""
import contextlib
import os
import pwd
import socket
import ssl

import paho.mqtt.client as mqtt

import pytest

from broker_process import (MOSQUITTO, START_TIMEOUT, BrokerOptions, BrokerProcess, broker_kind,
                            free_port, shardmq_binary)
from paho_client import PahoClient
from tls_certs import make_certs, openssl_available

WS_PATH = "/mqtt"
TLS_SCHEMES = ("mqtts", "wss")
WS_SCHEMES = ("ws", "wss")
# Mosquitto has no "optional": without require_certificate it does not ask for a certificate.
CLIENT_CERT_POLICIES = ("none", "optional", "required")


class ListenerBroker(BrokerProcess):
    """schemes: e.g. ("mqtt", "mqtts"); .ports[scheme] once started; certs: a tls_certs.CertSet,
    needed when a scheme uses TLS."""

    def __init__(self, workdir, schemes, certs=None, client_cert="none", shards=2, io="auto"):
        super().__init__(BrokerOptions(kind=broker_kind(), shards=shards, io=io), workdir)
        assert len(set(schemes)) == len(schemes), "one listener per scheme"
        assert client_cert in CLIENT_CERT_POLICIES, client_cert
        assert certs is not None or not any(s in TLS_SCHEMES for s in schemes)
        self.schemes, self.certs, self.client_cert = tuple(schemes), certs, client_cert
        self.ports = {}

    def url(self, scheme):
        return f"{scheme}://{self.host}:{self.ports[scheme]}" + (WS_PATH if scheme in WS_SCHEMES
                                                                 else "")

    def start(self, attempts=5):
        for _ in range(attempts):
            self.ports = {}
            while len(set(self.ports.values())) < len(self.schemes):
                self.ports = {s: free_port() for s in self.schemes}
            self.port = self.ports[self.schemes[0]]
            self._launch()
            if self._wait_accepting():
                return self
            if self._proc.poll() is None:
                self.kill()
                break
        raise RuntimeError(f"broker did not start: {self.command()}\n{self.log_tail()}")

    def describe(self):
        listeners = " ".join(self.url(s) for s in self.schemes if s in self.ports)
        if self.options.kind == "mosquitto":
            return f"mosquitto with {listeners}"
        return f"shardmq shards={self.options.shards} io={self.options.io} with {listeners}"

    def command(self):
        o = self.options
        if o.kind == "mosquitto":
            return [MOSQUITTO, "-c", str(self._write_mosquitto_conf())]
        cmd = [str(shardmq_binary())]
        for s in self.schemes:
            cmd += ["--listen", self.url(s)]
        if any(s in TLS_SCHEMES for s in self.schemes):
            cmd += ["--tls-cert", str(self.certs.server_cert), "--tls-key",
                    str(self.certs.server_key)]
            if self.client_cert != "none":
                cmd += ["--tls-ca", str(self.certs.ca), "--tls-client-cert", self.client_cert]
        return cmd + ["--shards", str(o.shards), "--io", o.io, "--log-level", "info"]

    def _write_mosquitto_conf(self):
        # Mosquitto started as root drops to user "mosquitto", who cannot read pytest's 0700
        # tmp dirs holding the certificates: stay the current user.
        lines = [f"user {pwd.getpwuid(os.getuid()).pw_name}", "per_listener_settings false", "allow_anonymous true", "persistence false",
                 "log_dest stderr", "log_type all"]
        for s in self.schemes:
            lines.append(f"listener {self.ports[s]} {self.host}")
            if s in WS_SCHEMES:
                lines.append("protocol websockets")
            if s in TLS_SCHEMES:
                lines += [f"certfile {self.certs.server_cert}", f"keyfile {self.certs.server_key}"]
                if self.client_cert != "none":
                    lines.append(f"cafile {self.certs.ca}")
                if self.client_cert == "required":
                    lines.append("require_certificate true")
        if all(s in WS_SCHEMES for s in self.schemes):
            # Mosquitto 2.0.11 exits ("Unable to start any listening sockets") when it has only
            # WebSocket listeners: give it an unused plain one.
            lines.append(f"listener {free_port()} {self.host}")
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def _ports_to_wait(self):
        return self.ports.values()


# -- clients -------------------------------------------------------------------------------

def client_tls_context(certs, cert=None, key=None):
    """A client context trusting the test CA, presenting cert/key when given."""
    ctx = ssl.create_default_context(cafile=str(certs.ca))
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


def paho_over(broker, scheme, certs=None, cert=None, key=None, **kw):
    """A PahoClient (not yet connected) that reaches broker's listener for scheme: TLS with
    tls_set for mqtts/wss, transport="websockets" with path /mqtt for ws/wss."""
    c = PahoClient(broker.host, broker.ports[scheme], **kw)
    if scheme in WS_SCHEMES:
        _switch_to_websockets(c)
    if scheme in TLS_SCHEMES:
        c.client.tls_set_context(client_tls_context(certs, cert, key))
    return c


def _switch_to_websockets(c):
    """PahoClient builds a TCP paho client; replace it by a WebSocket one with its callbacks."""
    tcp = c.client
    ws = mqtt.Client(client_id=c.client_id, protocol=c.protocol, transport="websockets",
                     reconnect_on_failure=False, clean_session=c.clean_session)
    for name in ("on_connect", "on_disconnect", "on_message", "on_subscribe", "on_unsubscribe",
                 "on_publish", "on_log"):
        setattr(ws, name, getattr(tcp, name))
    ws.ws_set_options(path=WS_PATH)
    c.client = ws


class ClientSet:
    """Every client a test opened, closed at teardown before the broker stops."""

    def __init__(self):
        self._paho, self._sockets = [], []

    def paho(self, broker, scheme, certs=None, connect=True, **kw):
        c = paho_over(broker, scheme, certs, **kw)
        self._paho.append(c)
        return c.connect() if connect else c

    def socket(self, broker, scheme, tls_context=None, timeout=10.0):
        s = socket.create_connection((broker.host, broker.ports[scheme]), timeout=timeout)
        if tls_context is not None:
            try:
                s = tls_context.wrap_socket(s, server_hostname=broker.host)
            except BaseException:
                s.close()
                raise
        self._sockets.append(s)
        return s

    def close_all(self):
        for c in self._paho:
            c.close()
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.close()


class BrokerSession:
    """What a test started: brokers and clients. Closing stops clients first, then each broker,
    and fails the test if one needed SIGKILL, exited non-zero or printed sanitizer reports (the
    checks conftest's broker fixture makes)."""

    def __init__(self, request, workdir, io, certs):
        self._request, self._workdir, self._io, self._certs = request, workdir, io, certs
        self.brokers = []
        self.clients = ClientSet()

    def start(self, schemes, client_cert="none", shards=2):
        proc = ListenerBroker(self._workdir / f"broker{len(self.brokers)}", schemes,
                              certs=self._certs, client_cert=client_cert, shards=shards,
                              io=self._io)
        self.brokers.append(proc)
        proc.start()
        self._request.node._broker_process = proc  # conftest attaches its log to a failure
        return proc

    def close(self):
        self.clients.close_all()
        problems = []
        for proc in self.brokers:
            code = proc.stop()
            if proc.killed:
                problems.append(f"{proc.describe()} ignored SIGTERM for 10 s\n{proc.log_tail()}")
            elif code != 0:
                problems.append(f"{proc.describe()} exited with {code}\n{proc.diagnostics()}")
            bad = proc.sanitizer_lines()
            if bad:
                problems.append("sanitizer reports:\n" + "\n".join(bad) + "\n" +
                                proc.diagnostics())
        assert not problems, "\n".join(problems)


# -- fixtures, imported by the test modules ---------------------------------------------------

# shardmq: both event loops (2 shards, so connections land on different shards); Mosquitto: one.
IO_BACKENDS = ["mosquitto"] if broker_kind() == "mosquitto" else ["uring", "epoll"]


@pytest.fixture(params=IO_BACKENDS)
def io_backend(request):
    return "auto" if request.param == "mosquitto" else request.param


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    if not openssl_available():
        pytest.skip("the openssl command line tool is missing (apt-get install openssl)")
    return make_certs(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def session(request, tmp_path, io_backend, certs):
    """session.start(("mqtt", "mqtts"), client_cert=...) -> ListenerBroker; session.clients."""
    s = BrokerSession(request, tmp_path, io_backend, certs)
    try:
        yield s
    finally:
        s.close()
