"""A shardmq broker with durable state: a config file with [storage] in the test's directory,
and the data directory beside it, kept across kill -9 and restarts."""
from broker_process import BrokerOptions, BrokerProcess, shardmq_binary


class DurableBroker(BrokerProcess):
    def __init__(self, workdir, durability="sync", shards=2, io="epoll", on_corruption=None):
        super().__init__(BrokerOptions(kind="shardmq", shards=shards, io=io), workdir)
        self.durability = durability
        self.on_corruption = on_corruption  # None: the default (refuse)
        self.data_dir = self.workdir / "data"

    def command(self):
        conf = self.workdir / "shardmq.toml"
        conf.write_text("\n".join([
            "[[listener]]", f'url = "mqtt://{self.host}:{self.port}"', "",
            "[storage]", f'durability = "{self.durability}"', f'path = "{self.data_dir}"',
            *([f'on_corruption = "{self.on_corruption}"'] if self.on_corruption else []), "",
        ]))
        return [str(shardmq_binary()), "--config", str(conf), "--shards",
                str(self.options.shards), "--io", self.options.io, "--log-level", "info"]

    def restart(self):
        """After kill() or stop(): the same data directory, a new process (and port)."""
        self.returncode = None
        self.killed = False
        return self.start()
