"""The kernel settings and limits a loopback run of N connections needs (scripts/million).

check_kernel() prints one row per setting: what it is, what the run needs, and whether it is
ok, MISSING (and cannot be changed here), or raised for this run (root only, settings that
are safe to raise for a few minutes on a shared host: they only allow more). restore_settings()
puts back what was raised. A loopback connection is two sockets, the client's and the
broker's, both on this host.
"""
import os
import resource

# What one held connection costs, for the memory estimate (measured on this project's host,
# docs/benchmarks.md "A million connections"): both sockets in the kernel (slab), the broker
# and the load tool.
KERNEL_BYTES = 9000
LOAD_BYTES = 300


def broker_bytes(shards):
    # Today's broker keeps every subscription's interest on every shard: ~120 B a shard
    # (1,270 B a connection on 4 shards, 2,000 on 16, 7,900 on 64).
    return max(1300, 125 * shards)
# shardmq-load keeps at most 1024 handshakes in flight per worker process.
PENDING_PER_WORKER = 1024
# Reuseport spreads connections over the shards' listeners by hash: leave room for the
# unevenness (and for the broker's own files) under each shard's fixed-file table.
SHARD_MARGIN = 1000


def _path(key):
    return "/proc/sys/" + key.replace(".", "/")


def _read(key):
    try:
        with open(_path(key)) as f:
            return f.read().split()
    except OSError:
        return None


def _write(key, value):
    with open(_path(key), "w") as f:
        f.write(value)


def restore_settings(restore):
    for key, old in reversed(restore):
        try:
            _write(key, old)
        except OSError as e:
            print(f"scripts/million: could not restore {key} = {old}: {e}")


def _mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def _rows(clients, shards):
    """(name, current, needed, ok, raisable key and value or None, why)."""
    rows = []
    sockets = 2 * clients
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    per_process = hard - 100 if hard != resource.RLIM_INFINITY else 1_000_000
    workers = -(-clients // per_process)

    def sysctl(key, index, need, why, raise_to=None, required=True):
        cur = _read(key)
        if cur is None:
            rows.append((key, "absent", str(need), True, None,
                         why + " (not on this kernel, or host-wide and not visible in this "
                         "network namespace: then checked before entering it)"))
            return
        value = int(cur[index])
        ok = value >= need
        if not required:
            why += "; advice: the run goes without it"
        fix = None
        if not ok and raise_to is not None:
            new = list(cur)
            new[index] = str(max(need, raise_to))
            fix = (key, " ".join(new))
        field = f" (field {index + 1})" if len(cur) > 1 else ""
        rows.append((key, " ".join(cur), f">= {need}{field}", ok or not required, fix if not ok
                     else None, why))

    sysctl("fs.file-max", 0, sockets + 65536,
           "every socket is a file, both ends of each connection", sockets + 65536)
    per_shard = hard - SHARD_MARGIN
    need_shards = -(-clients // per_shard)
    rows.append(("nofile (hard, per process)", f"{soft}/{hard}",
                 f"shards >= {need_shards} at {per_shard} each", shards >= need_shards, None,
                 f"each shard's io_uring fixed-file table is capped by it; {shards} shards "
                 f"hold {shards * per_shard:,}; the load tool uses {workers} processes"))
    sysctl("net.core.somaxconn", 0, 4096,
           "each shard's listen backlog (shardmq asks for 4096)", 4096, required=False)
    sysctl("net.core.netdev_max_backlog", 0, 16384,
           "loopback packets queue per CPU; past it they are dropped and resent 200 ms+ later",
           65536, required=False)
    sysctl("net.ipv4.tcp_max_orphans", 0, clients,
           "at the end every client closes at once; orphans past it are reset", clients,
           required=False)
    # Idle sockets hold no TCP memory; set-up and messages need a little.
    sysctl("net.ipv4.tcp_mem", 2, 262144, "pages of socket buffers, all sockets together")
    if (_read("net.netfilter.nf_conntrack_count") or ["0"])[0] != "0":
        sysctl("net.netfilter.nf_conntrack_max", 0, clients + 65536,
               "connection tracking is active: one entry per connection", clients + 65536)
    ports = _read("net.ipv4.ip_local_port_range")
    if ports:
        span = int(ports[1]) - int(ports[0]) + 1
        rows.append(("net.ipv4.ip_local_port_range", " ".join(ports), "any", True, None,
                     f"the load tool fills each 127.0.0.x source to a quarter of it: "
                     f"{-(-clients // max(1, span // 4))} source addresses"))
    per = KERNEL_BYTES + broker_bytes(shards) + LOAD_BYTES
    need_kib = clients * per // 1024
    have = _mem_available_kib()
    rows.append(("MemAvailable", f"{have // 1024:,} MiB", f">= {need_kib // 1024:,} MiB",
                 have >= need_kib, None,
                 f"~{per / 1000:.1f} kB a connection: kernel, broker and load tool"))
    return rows


def check_kernel(clients, shards, tune, restore):
    """Prints the check; raises what it may when `tune` (as root). Returns the names of the
    settings still missing (empty: the run can go)."""
    rows = _rows(clients, shards)
    root = os.geteuid() == 0
    missing = []
    print(f"kernel check for {clients:,} loopback connections on {shards} shards:")
    for name, cur, need, ok, fix, why in rows:
        status = "ok" if not fix else "low"
        if fix and tune and root:
            old = " ".join(_read(fix[0]))
            try:
                _write(fix[0], fix[1])
                restore.append((fix[0], old))
                status = f"raised to {fix[1]} for this run"
            except OSError as e:
                status = f"{'MISSING' if not ok else 'low'} (could not raise: {e.strerror})"
                if not ok:
                    missing.append(name)
        elif not ok:
            status = "MISSING" + (" (scripts/million raises it as root)" if fix else "")
            missing.append(name)
        print(f"  {name:30} {cur:24} {need:30} {status}\n  {'':30} {why}")
    if missing:
        print("missing: " + ", ".join(missing))
    return missing


def raise_child_ehash(clients, restore):
    """The TCP established hash (262,144 buckets here, sized at boot) is looked up for every
    packet; two sockets a connection make chains of ~8 at a million. A network namespace made
    after net.ipv4.tcp_child_ehash_entries is set gets a table of its own of that size (a
    broker host would set `thash_entries` at boot instead). Returns the size, or 0 if the
    kernel lacks the setting or it cannot be written."""
    if _read("net.ipv4.tcp_child_ehash_entries") is None:
        return 0
    size = 1 << max(16, (2 * clients - 1).bit_length())
    size = min(max(size, int(_read("net.ipv4.tcp_ehash_entries")[0])), 1 << 24)
    old = " ".join(_read("net.ipv4.tcp_child_ehash_entries"))
    try:
        _write("net.ipv4.tcp_child_ehash_entries", str(size))
    except OSError:
        return 0
    restore.append(("net.ipv4.tcp_child_ehash_entries", old))
    return size
