"""Which gunicorn worker serves which connection, read from /proc (Linux), for fault tests that kill one
worker mid-stream; and restarting the test PostgreSQL server in place."""
import os
import subprocess
from urllib.parse import urlparse

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")


def worker_pids(master_pid):
    """The pids of a gunicorn master's (live) worker processes."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid and fields[0] != "Z":
            pids.append(int(entry))
    return sorted(pids)


def socket_inodes(pid):
    """The inodes of the sockets a process holds open."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def connection_inode(server_port, client_port):
    """The inode of the server side of the loopback TCP connection server_port <- client_port, or None."""
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            remote_port = int(fields[2].split(":")[1], 16)
            if local_port == server_port and remote_port == client_port and int(fields[9]):
                return int(fields[9])
    return None


def serving_worker(master_pid, server_port, response):
    """The pid of the worker serving a streamed `requests` response (None if not found)."""
    sock = response.raw._connection.sock
    inode = connection_inode(server_port, sock.getsockname()[1])
    for pid in worker_pids(master_pid):
        if inode in socket_inodes(pid):
            return pid
    return None


def restart_postgres(database_url):
    """Restart the PostgreSQL server tests/support/postgres.sh started for `database_url` (fast mode: its
    clients are disconnected, as in a real restart or failover)."""
    port = urlparse(database_url).port
    data = f"/tmp/chathub-pg-{port}"
    command = [f"{PGBIN}/pg_ctl", "-D", data, "-l", f"{data}/server.log", "-w", "-t", "60", "-m", "fast", "restart"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--"] + command
    subprocess.run(command, check=True, capture_output=True, timeout=90)
