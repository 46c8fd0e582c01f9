"""shardmq with an MQTT listener and an http:// listener (/metrics, /status.json, the
dashboard), each on its own free port, and a small reader of what the http side answers."""
import http.client
import re

from broker_process import BrokerOptions, BrokerProcess, free_port, shardmq_binary

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, ((label, value), ...)): float} from the Prometheus text format."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = tuple(sorted(LABEL.findall(m.group(2) or "")))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


class Metrics:
    """One scrape: value(name, **labels) of one sample, total(name, **labels) over the samples
    whose labels include those given (e.g. every shard's)."""

    def __init__(self, text):
        self.text = text
        self.samples = parse_metrics(text)

    def _matching(self, name, labels):
        want = set(labels.items())
        return [v for (n, ls), v in self.samples.items() if n == name and want <= set(ls)]

    def value(self, name, **labels):
        found = [v for (n, ls), v in self.samples.items()
                 if n == name and dict(ls) == labels]
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
        return found[0]

    def total(self, name, **labels):
        found = self._matching(name, labels)
        assert found, f"no sample {name}{labels}"
        return sum(found)


class MetricsBroker(BrokerProcess):
    """shardmq --config with [[listener]] mqtt and http; `toml` adds sections; basic_auth asks
    the http listener for credentials (needs [auth] password_file in `toml`)."""

    def __init__(self, workdir, shards=2, io="epoll", toml="", basic_auth=False):
        super().__init__(BrokerOptions(kind="shardmq", shards=shards, io=io), workdir)
        self.toml, self.basic_auth = toml, basic_auth
        self.http_port = None

    def start(self, attempts=5):
        for _ in range(attempts):
            self.http_port = free_port()
            try:
                return super().start(attempts=1)
            except RuntimeError:
                if self._proc is not None and self._proc.poll() is None:
                    raise
        raise RuntimeError(f"broker did not start: {self.command()}\n{self.log_tail()}")

    def command(self):
        conf = self.workdir / "shardmq.toml"
        conf.write_text(
            f'[[listener]]\nurl = "mqtt://{self.host}:{self.port}"\n\n'
            f'[[listener]]\nurl = "http://{self.host}:{self.http_port}"\n'
            f'basic_auth = {"true" if self.basic_auth else "false"}\n\n{self.toml}')
        return [str(shardmq_binary()), "--config", str(conf), "--shards",
                str(self.options.shards), "--io", self.options.io, "--log-level", "info"]

    def _ports_to_wait(self):
        return [self.port, self.http_port]

    def get(self, path, method="GET", headers=None):
        """(status, headers dict with lower-case names, body bytes) of one request."""
        conn = http.client.HTTPConnection(self.host, self.http_port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def scrape(self, headers=None):
        status, hdrs, body = self.get("/metrics", headers=headers)
        assert status == 200, (status, body[:200])
        assert hdrs["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        return Metrics(body.decode())
