"""mosquitto_sub / mosquitto_pub as real third-party clients."""
import queue
import subprocess
import threading

from wait_condition import wait_until

VERSIONS = ("mqttv31", "mqttv311", "mqttv5")


class CliSubscriber:
    """mosquitto_sub in debug mode, so the test can wait for its SUBACK before publishing."""

    def __init__(self, host, port, topic, count, version, timeout_s=10, client_id=None):
        # stdbuf: line-buffered stdout, so the SUBACK line arrives while it runs.
        cmd = ["stdbuf", "-oL", "mosquitto_sub", "-h", host, "-p", str(port), "-t", topic, "-C", str(count),
               "-W", str(timeout_s), "-V", version, "-v", "-d"]
        if client_id:
            cmd += ["-i", client_id]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self._lines = queue.Queue()
        self.output = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self):
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _drain(self):
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.output.append(line)

    def wait_subscribed(self, timeout=10):
        def subscribed():
            self._drain()
            return any("received SUBACK" in l for l in self.output)
        wait_until(subscribed, timeout, "mosquitto_sub SUBACK")

    def finish(self, timeout=15):
        """Waits (bounded) for exit; returns (exit code, the 'topic payload' lines)."""
        try:
            rc = self.proc.wait(timeout)
        finally:
            self.kill()
        self._pump_thread.join(5)
        self._drain()
        messages = [l for l in self.output
                    if not l.startswith("Client ") and not l.startswith("Subscribed (mid")]
        return rc, messages

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def publish(host, port, topic, lines, version, qos=0, timeout=15):
    """Publishes each of lines as one message (mosquitto_pub -l); returns the completed process."""
    cmd = ["mosquitto_pub", "-h", host, "-p", str(port), "-t", topic, "-l", "-q", str(qos),
           "-V", version]
    return subprocess.run(cmd, input="".join(l + "\n" for l in lines), text=True,
                          capture_output=True, timeout=timeout)
