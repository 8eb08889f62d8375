"""Several app replicas behind Debian's nginx on loopback: the course-sized topology, without containers.

    python deploy/cluster.py --replicas 2 --port 8500     # serve until Ctrl-C
    with Cluster(replicas=2) as cluster: cluster.url, cluster.kill(0), cluster.output(1)

Each replica is `streamlit run app.py` on its own free 127.0.0.1 port; nginx (deploy/nginx.conf)
listens on one port in front of them (deploy/bptt.conf.template, the same file compose.yaml uses).
Everything lives in a temporary folder that is removed on exit; nothing listens beyond loopback.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("bptt.conf.template")
MAIN = """worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/bptt.conf;
}}
"""
STARTUP_TIMEOUT_S = 60


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = STARTUP_TIMEOUT_S) -> None:
    """Until url/_stcore/health answers 200; RuntimeError with the process's output if it dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}: {_log(process)[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url}/_stcore/health did not answer within {timeout} s")


def write_nginx_config(prefix: str, listen: int, ports: list) -> Path:
    """The main config (temporary paths in prefix) including the shared fragment, filled in as the image would."""
    upstream = " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)
    fragment = TEMPLATE.read_text().replace("${BPTT_LISTEN}", f"127.0.0.1:{listen}").replace("${BPTT_UPSTREAM}", upstream)
    (Path(prefix) / "bptt.conf").write_text(fragment)
    main = Path(prefix) / "nginx.conf"
    main.write_text(MAIN.format(prefix=prefix))
    return main


class Cluster:
    """N replicas and nginx in front, started on enter and stopped on exit."""

    def __init__(self, replicas: int = 2, port: int | None = None):
        self.replicas, self.port = replicas, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.apps, self.ports, self.nginx, self.folder = [], [], None, None

    def __enter__(self) -> "Cluster":
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            raise RuntimeError("nginx is not installed: apt-get install -y nginx (scripts/test.sh does)")
        self.folder = tempfile.mkdtemp(prefix="bptt-cluster-")
        try:
            for i in range(self.replicas):
                port = free_port()
                self.ports.append(port)
                self.apps.append(_start_app(port, Path(self.folder) / f"replica{i}.log"))
            for port, app in zip(self.ports, self.apps):
                wait_healthy(f"http://127.0.0.1:{port}", app)
            config = write_nginx_config(self.folder, self.port, self.ports)
            nginx = shutil.which("nginx") or "/usr/sbin/nginx"
            self.nginx = _started([nginx, "-p", self.folder, "-c", str(config)], Path(self.folder) / "nginx.out")
            wait_healthy(self.url, self.nginx)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def kill(self, index: int) -> None:
        """End replica `index` at once, as a crash would: SIGKILL, no goodbye to its websockets."""
        os.killpg(self.apps[index].pid, signal.SIGKILL)
        self.apps[index].wait()

    def sessions(self, index: int) -> int:
        """Open TCP connections to replica `index` (nginx holds one per websocket it proxies there)."""
        port, count = self.ports[index], 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for row in Path(table).read_text().splitlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                count += state == "01" and int(local.rsplit(":", 1)[1], 16) == port  # 01: ESTABLISHED
        return count

    def output(self, index: int) -> str:
        """What replica `index` printed so far (its log: warnings, and tracebacks if any)."""
        return _log(self.apps[index])

    def __exit__(self, *exc) -> None:
        for process in [self.nginx, *self.apps]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def _start_app(port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    return _started(command, log)


def _started(command: list, log: Path) -> subprocess.Popen:
    """The command in its own process group, its output in a file: a pipe nobody reads would block a chatty server."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log
    return process


def _log(process: subprocess.Popen) -> str:
    try:
        return process.log.read_text(errors="replace")
    except OSError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="app processes behind nginx (about one per core)")
    parser.add_argument("--port", type=int, default=8500, help="the port nginx listens on, on 127.0.0.1")
    args = parser.parse_args()
    with Cluster(args.replicas, args.port) as cluster:
        print(f"{args.replicas} replicas behind nginx at {cluster.url} (Ctrl-C stops them all)", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
