"""One broker under test (shardmq or Mosquitto) running as a subprocess on a free local port."""
import dataclasses
import os
import pathlib
import signal
import socket
import subprocess
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_SHARDMQ = REPO_ROOT / "build" / "sanitize" / "broker" / "shardmq"
MOSQUITTO = "/usr/sbin/mosquitto"
HOST = "127.0.0.1"
# Lines a sanitized shardmq prints when it found a bug, even if it still exits 0.
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
# What shardmq's main thread logs (at level info) once start-up is over: after the io backend,
# the receive buffers, the listeners and what storage restored. Its shards accept connections
# before that, so a port that accepts does not yet mean those lines are in the log.
READY_LINE = "ready with"
START_TIMEOUT = 20.0  # an ASan build starts slowly on a busy machine
STOP_TIMEOUT = 10.0


def broker_kind():
    """'mosquitto' when BROKER=mosquitto, else 'shardmq'."""
    return "mosquitto" if os.environ.get("BROKER", "").lower() == "mosquitto" else "shardmq"


def shardmq_binary():
    return pathlib.Path(os.environ.get("SHARDMQ_BIN") or DEFAULT_SHARDMQ)


@dataclasses.dataclass(frozen=True)
class BrokerOptions:
    kind: str = "shardmq"
    shards: int = 1
    io: str = "epoll"
    # Seconds a socket may stay open without CONNECT (shardmq only: Mosquitto's is fixed, ~90 s).
    connect_timeout: float | None = None
    # Seconds between $SYS publishes; None keeps the broker's default.
    sys_interval: float | None = None
    # TOML for shardmq's --config (Mosquitto ignores it).
    shardmq_config: str | None = None


def free_port():
    """A port the kernel just handed out; the broker may still lose a race for it (see start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class BrokerProcess:
    def __init__(self, options, workdir):
        self.options = options
        self.workdir = pathlib.Path(workdir)
        self.host = HOST
        self.port = None
        self.log_path = self.workdir / "broker.log"
        self.returncode = None
        self.killed = False
        self._proc = None

    # -- lifecycle ---------------------------------------------------------

    def start(self, attempts=5):
        """Starts on a free port, retrying when another process grabbed the port first."""
        for _ in range(attempts):
            self.port = free_port()
            self._launch()
            if self._wait_accepting():
                return self
            if self._proc.poll() is None:  # alive but never accepted: a real failure
                self.kill()
                break
        raise RuntimeError(f"broker did not start: {self.command()}\n{self.log_tail()}")

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, bounded wait, SIGKILL if still alive. Returns the exit code (idempotent)."""
        if self._proc is None:
            return None
        if self.returncode is None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)
                try:
                    self._proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.kill()
            self.returncode = self._proc.wait()
            self._log.close()
        return self.returncode

    def kill(self):
        if self._proc is not None and self._proc.poll() is None:
            self.killed = True
            self._proc.kill()
            self._proc.wait()

    def stop_and_check(self):
        """Teardown of a broker a test started itself: stopped by SIGTERM, exit code 0, no
        sanitizer report."""
        code = self.stop()
        assert not self.killed, f"{self.describe()} ignored SIGTERM\n{self.log_tail()}"
        assert code == 0, f"{self.describe()} exited with {code}\n{self.diagnostics()}"
        bad = self.sanitizer_lines()
        assert not bad, "sanitizer reports:\n" + "\n".join(bad) + "\n" + self.diagnostics()

    def alive(self):
        return self._proc is not None and self._proc.poll() is None

    # -- diagnostics -------------------------------------------------------

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=60):
        tail = self.log_text().splitlines()[-lines:]
        return f"--- tail of {self.log_path} ---\n" + "\n".join(tail)

    def sanitizer_report(self, lines=80):
        """The log from the first sanitizer line on (the part a tail would cut off), else ''."""
        log = self.log_text().splitlines()
        for i, line in enumerate(log):
            if any(m in line for m in SANITIZER_MARKERS):
                return f"--- sanitizer report in {self.log_path} ---\n" + "\n".join(log[i:i + lines])
        return ""

    def diagnostics(self):
        """What to show when the broker misbehaved: the sanitizer report if any, else the tail."""
        return self.sanitizer_report() or self.log_tail()

    def sanitizer_lines(self):
        return [l for l in self.log_text().splitlines() if any(m in l for m in SANITIZER_MARKERS)]

    def describe(self):
        o = self.options
        if o.kind == "mosquitto":
            return f"mosquitto on {self.host}:{self.port}"
        return f"shardmq shards={o.shards} io={o.io} on {self.host}:{self.port}"

    # -- internals ---------------------------------------------------------

    def command(self):
        o = self.options
        if o.kind == "mosquitto":
            return [MOSQUITTO, "-c", str(self._write_mosquitto_conf())]
        cmd = [str(shardmq_binary()), "--listen", f"{self.host}:{self.port}",
               "--shards", str(o.shards), "--io", o.io, "--log-level", "info"]
        if o.connect_timeout is not None:
            cmd += ["--connect-timeout", f"{o.connect_timeout:g}"]
        if o.sys_interval is not None:
            cmd += ["--sys-interval", f"{o.sys_interval:g}"]
        if o.shardmq_config is not None:
            conf = self.workdir / "shardmq.toml"
            conf.write_text(o.shardmq_config)
            cmd += ["--config", str(conf)]
        return cmd

    def _write_mosquitto_conf(self):
        conf = self.workdir / "mosquitto.conf"
        lines = [f"listener {self.port} {self.host}", "allow_anonymous true",
                 "persistence false", "log_dest stderr", "log_type all"]
        if self.options.sys_interval is not None:
            lines.append(f"sys_interval {max(1, round(self.options.sys_interval))}")
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def _launch(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self._launch_offset = self._log.tell()  # this launch's lines follow (restarts append)
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        cmd = self.command()
        self._launched = cmd
        self._log.write(("$ " + " ".join(cmd) + "\n").encode())
        self._log.flush()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
                                      preexec_fn=self.preexec())
        self.returncode = None

    def preexec(self):
        """A function to run in the child before exec (limits, signals), or None."""
        return None

    def _ports_to_wait(self):
        """The ports that must accept before the broker counts as started."""
        return [self.port]

    def _logs_ready_line(self):
        """Whether this launch logs READY_LINE: shardmq told --log-level info or debug (the
        command line wins over a config file's log_level)."""
        cmd = self._launched
        if self.options.kind != "shardmq" or "--log-level" not in cmd:
            return False
        i = cmd.index("--log-level")
        return i + 1 < len(cmd) and cmd[i + 1] in ("info", "debug")

    def _ready_logged(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._launch_offset)
                return READY_LINE.encode() in f.read()
        except FileNotFoundError:
            return False

    def _wait_accepting(self):
        """True once every port accepts and, where it logs one, the broker's ready line is in
        the log (a test may read its start-up lines at once); False if it exits or times out."""
        deadline = time.monotonic() + START_TIMEOUT
        pending = set(self._ports_to_wait())
        ready = not self._logs_ready_line()
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.close()
                return False
            for port in list(pending):
                try:
                    with socket.create_connection((self.host, port), timeout=0.5):
                        pending.discard(port)
                except OSError:
                    pass
            if not pending and not ready:
                ready = self._ready_logged()
            if not pending and ready:
                return True
            time.sleep(0.02)
        return False
