"""tests/browser/node_modules (MQTT.js, playwright-core), installed with `npm ci` by the first test
that needs it: test_browser.py, test_mqttjs.py and test_mqtt5_flow.py's MQTT.js test.

Under pytest-xdist those run at the same time in different worker processes, so the install holds
an exclusive lock (tests/browser/.npm-ci.lock): one process runs `npm ci`, which first deletes
node_modules, while the others wait and then find it installed."""
import contextlib
import fcntl
import os
import pathlib
import shutil
import subprocess

BROWSER_DIR = pathlib.Path(__file__).resolve().parents[1] / "browser"
DEFAULT_NODE_MODULES = BROWSER_DIR / "node_modules"
# Where the MQTT.js tests load it from (NODE_PATH); SHARDMQ_NODE_MODULES names another copy.
NODE_MODULES = pathlib.Path(os.environ.get("SHARDMQ_NODE_MODULES", DEFAULT_NODE_MODULES))
NPM_LOG = BROWSER_DIR / "npm-ci.log"
NPM_LOCK = BROWSER_DIR / ".npm-ci.lock"
NPM_TIMEOUT = 300


def node_tools_missing():
    """The missing ones of node and npm."""
    return [t for t in ("node", "npm") if shutil.which(t) is None]


def installed():
    """node_modules holds what package-lock.json pins (npm ci writes .package-lock.json last)."""
    marker = DEFAULT_NODE_MODULES / ".package-lock.json"
    return marker.exists() and marker.stat().st_mtime >= (
        BROWSER_DIR / "package-lock.json").stat().st_mtime


@contextlib.contextmanager
def _install_lock():
    with open(NPM_LOCK, "ab") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_installed():
    """Runs `npm ci` in tests/browser unless node_modules is already current. Returns None when
    it is, else the failure to report (npm's exit code and the tail of its log)."""
    with _install_lock():
        if installed():
            return None
        env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
        with open(NPM_LOG, "wb") as log:
            done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                                  cwd=BROWSER_DIR, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  timeout=NPM_TIMEOUT)
        if done.returncode == 0:
            return None
        tail = "\n".join(NPM_LOG.read_text(errors="replace").splitlines()[-30:])
        return f"npm ci failed in {BROWSER_DIR} (log {NPM_LOG}):\n{tail}"
