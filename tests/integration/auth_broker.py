"""A broker (shardmq or Mosquitto) started with access-control files: a password file, an
ACL, listener settings. The same test body runs against both; where shardmq deliberately
differs the test says so."""
import os
import pathlib
import pwd
import shutil
import subprocess

from broker_process import MOSQUITTO, BrokerOptions, BrokerProcess, shardmq_binary

MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"


def mosquitto_passwd(path, user, password, create=False):
    """Adds or updates a user with Debian's mosquitto_passwd (-b: password on the line)."""
    args = [MOSQUITTO_PASSWD, "-b"]
    if create:
        args.append("-c")
    subprocess.run(args + [str(path), user, password], check=True, capture_output=True,
                   timeout=30)


def have_mosquitto_tools():
    return shutil.which(MOSQUITTO_PASSWD) is not None and pathlib.Path(MOSQUITTO).exists()


class AuthBroker(BrokerProcess):
    """kind: 'shardmq' or 'mosquitto'. auth: dict of [auth] keys (password_file, acl_file,
    allow_anonymous, max_login_failures, ...); the Mosquitto file gets the equivalents."""

    def __init__(self, kind, workdir, auth, shards=2, io="epoll", tls=None):
        super().__init__(BrokerOptions(kind=kind, shards=shards, io=io), workdir)
        self.auth = dict(auth)
        # tls: a tls_certs.CertSet: the listener is TLS, requires a client certificate and
        # takes its CN as the user name (use_identity_as_username).
        self.tls = tls

    def command(self):
        if self.options.kind == "mosquitto":
            return [MOSQUITTO, "-c", str(self._mosquitto_conf())]
        return [str(shardmq_binary()), "--config", str(self._shardmq_conf()), "--shards",
                str(self.options.shards), "--io", self.options.io, "--log-level", "info"]

    def _shardmq_conf(self):
        scheme = "mqtts" if self.tls else "mqtt"
        lines = ["[[listener]]", f'url = "{scheme}://{self.host}:{self.port}"']
        if self.tls:
            lines += [f'cert = "{self.tls.server_cert}"', f'key = "{self.tls.server_key}"',
                      f'ca = "{self.tls.ca}"', "require_certificate = true",
                      "use_identity_as_username = true"]
        lines += ["", "[auth]"]
        for k, v in self.auth.items():
            if isinstance(v, bool):
                lines.append(f"{k} = {'true' if v else 'false'}")
            elif isinstance(v, int):
                lines.append(f"{k} = {v}")
            else:
                lines.append(f'{k} = "{v}"')
        path = self.workdir / "shardmq.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _mosquitto_conf(self):
        # As root Mosquitto drops to user "mosquitto", who cannot read pytest's 0700 dirs.
        lines = [f"user {pwd.getpwuid(os.getuid()).pw_name}", "persistence false",
                 "log_dest stderr", "log_type all", f"listener {self.port} {self.host}"]
        if self.tls:
            lines += [f"cafile {self.tls.ca}", f"certfile {self.tls.server_cert}",
                      f"keyfile {self.tls.server_key}", "require_certificate true",
                      "use_identity_as_username true"]
        a = self.auth
        if "password_file" in a:
            lines.append(f"password_file {a['password_file']}")
        if "acl_file" in a:
            lines.append(f"acl_file {a['acl_file']}")
        anonymous = a.get("allow_anonymous", "password_file" not in a)
        lines.append(f"allow_anonymous {'true' if anonymous else 'false'}")
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def reload(self):
        """SIGHUP: both brokers re-read their password file and ACL."""
        import signal
        self._proc.send_signal(signal.SIGHUP)
