"""Throwaway PKI for the TLS tests, made with the openssl CLI: a CA, a server certificate for
127.0.0.1/localhost, a client certificate it signed, and a client certificate from a second CA
the broker does not trust."""
import dataclasses
import pathlib
import shutil
import subprocess

CLIENT_CN = "client-one"
STRANGER_CN = "stranger"


@dataclasses.dataclass(frozen=True)
class CertSet:
    ca: pathlib.Path  # the CA that signed server and client certificates
    server_cert: pathlib.Path
    server_key: pathlib.Path
    client_cert: pathlib.Path  # CN=CLIENT_CN, signed by ca
    client_key: pathlib.Path
    stranger_cert: pathlib.Path  # CN=STRANGER_CN, signed by an untrusted CA
    stranger_key: pathlib.Path


def openssl_available():
    return shutil.which("openssl") is not None


def make_certs(directory):
    """Writes the whole set into directory (created if needed) and returns its paths."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    _make_ca(d, "ca", "shardmq test CA")
    _make_ca(d, "other-ca", "untrusted test CA")
    _make_leaf(d, "server", "ca", "127.0.0.1",
               ["subjectAltName=IP:127.0.0.1,DNS:localhost", "extendedKeyUsage=serverAuth"])
    _make_leaf(d, "client", "ca", CLIENT_CN, ["extendedKeyUsage=clientAuth"])
    _make_leaf(d, "stranger", "other-ca", STRANGER_CN, ["extendedKeyUsage=clientAuth"])
    return CertSet(ca=d / "ca.crt", server_cert=d / "server.crt", server_key=d / "server.key",
                   client_cert=d / "client.crt", client_key=d / "client.key",
                   stranger_cert=d / "stranger.crt", stranger_key=d / "stranger.key")


# EC P-256 keys: generating them is instant, unlike RSA on a busy machine.
_KEY_ARGS = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _run(args, cwd):
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{done.stderr}")


def _make_ca(d, name, cn):
    _run(["req", "-x509", *_KEY_ARGS, "-keyout", f"{name}.key", "-out", f"{name}.crt",
          "-days", "2", "-subj", f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)


def _make_leaf(d, name, ca, cn, extensions):
    _run(["req", "-new", *_KEY_ARGS, "-keyout", f"{name}.key", "-out", f"{name}.csr",
          "-subj", f"/CN={cn}"], d)
    ext = d / f"{name}.ext"
    ext.write_text("\n".join(["basicConstraints=CA:FALSE", *extensions]) + "\n")
    _run(["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
          "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-sha256",
          "-extfile", ext.name], d)
