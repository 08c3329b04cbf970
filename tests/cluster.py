"""`make cluster-test`: Dateline run as production runs it, on this machine, and made to fail.

A PostgreSQL and a Redis of our own (temp data directories, ports 55432 and 56379: the
machine's own servers are never touched), two gunicorn app servers (A on 8101, B on 8102),
the task worker, and nginx on 8180 in front (config/nginx/dateline.conf.template). Then:

1. an update published through A is seen through nginx and through B within the page's
   shared-cache lifetime (s-maxage + stale-while-revalidate);
2. A is stopped and started again under load (wrk): no reader sees an error;
3. PostgreSQL is stopped and started under load: errors only while it is down, the app
   recovers by itself, and no update saved before is lost;
4. Redis is killed under load: nothing fails (pages are made from the database), and the
   cache fills again once Redis is back.

Run from the project root as `python -m tests.cluster [--summary FILE] [--keep]`; exits
non-zero if any bound is broken. Needs nginx, wrk, redis-server and PostgreSQL (Debian
packages); as root, PostgreSQL runs as the postgres user.
"""

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests import nginx_config

ROOT = Path(__file__).resolve().parent.parent
PG_PORT, REDIS_PORT, NGINX_PORT = 55432, 56379, 8180
APP_PORTS = {"A": 8101, "B": 8102}
HOST = "127.0.0.1"

# Short shared-cache lifetimes, so that phase 1 runs in seconds; the bound is read from
# the page's own Cache-Control all the same.
SHARED_MAX_AGE, STALE_WHILE_REVALIDATE = 5, 10
LOAD_SECONDS = 10
WRK = ["-t2", "-c16", "--timeout", "5s"]
# After PostgreSQL accepts connections again, the app must serve from it within this.
DB_RECOVERY_BOUND = 3.0
# After Redis is back, pages must be stored in it again within this.
REDIS_REFILL_BOUND = 5.0
EDITOR = "cluster-editor"

LOAD_SCRIPT = """
-- Cached pages and uncached ones (a search for words nobody searched before), in turn.
local paths = {PATHS}
local words = {"council", "budget", "harbor", "transit", "vote", "port", "rent", "ferry"}
local counter = 0
statuses = {}
bad = {}
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  if path == "SEARCH" then
    path = "/search/?q=" .. words[math.random(#words)] .. "+" .. math.random(1, 100000000)
  end
  return wrk.format("GET", path)
end

response = function(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status >= 400 then
    local second = tostring(os.time())
    bad[second] = (bad[second] or 0) + 1
  end
end

local function object(tbl)
  local parts = {}
  for k, v in pairs(tbl) do
    parts[#parts + 1] = string.format('"%s": %d', k, v)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

done = function(summary, latency, requests)
  local codes, seconds = {}, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("statuses")) do codes[k] = (codes[k] or 0) + v end
    for k, v in pairs(thread:get("bad")) do seconds[k] = (seconds[k] or 0) + v end
  end
  local e = summary.errors
  io.write(string.format(
    'CLUSTER_RESULT {"requests": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "codes": %s, "bad_seconds": %s}\\n',
    summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    object(codes), object(seconds)))
end
"""

SETUP_SHELL = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from blog.models import Post
from blog.roles import EDITOR

user, _ = get_user_model().objects.get_or_create(username={editor!r})
user.is_staff = True
user.set_password({password!r})
user.save()
user.groups.add(Group.objects.get(name=EDITOR))
post = Post.objects.published().filter(is_developing=True).order_by("-published_at").first()
print("CLUSTER_PATHS " + json.dumps({{
    "post": post.get_absolute_url(),
    "updates": post.get_absolute_url() + "updates/",
    "category": post.category.get_absolute_url(),
}}))
"""


class Failed(Exception):
    """The cluster could not be set up: not a broken bound, a broken run."""


@dataclass
class Phase:
    name: str
    requests: int = 0
    errors: int = 0
    detail: str = ""
    bounds: list = field(default_factory=list)  # (what, ok)

    def check(self, what, ok):
        self.bounds.append((what, bool(ok)))

    @property
    def passed(self):
        return all(ok for _, ok in self.bounds)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def port_open(port, host=HOST):
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def get(port, path, headers=None, timeout=10):
    """(status, headers, body) of a plain GET, with no cookies: a reader."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def wait_for(what, test, seconds=30, every=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if test():
                return
        except OSError:
            pass
        time.sleep(every)
    raise Failed(f"{what}: not ready after {seconds} s")


def postgres_bin():
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise Failed("PostgreSQL is not installed (apt-get install postgresql)")
    return found[-1].parent


class Cluster:
    """Every process the test starts, and how to stop each one."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir()
        self.processes = {}
        self.lock = threading.Lock()
        self.pg_bin = postgres_bin()
        self.pg_dir = tmp / "postgres"
        self.pg_started = False
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.env = {
            **os.environ,
            "PRODUCTION": "1",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "DATABASE_URL": f"postgres://dateline:dateline@{HOST}:{PG_PORT}/dateline",
            "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
            "PROXY_COUNT": "1",
            "WEB_CONCURRENCY": "2",
            "GUNICORN_GRACEFUL_TIMEOUT": "5",
            "STATIC_ROOT": str(tmp / "static"),
            "MEDIA_ROOT": str(tmp / "media"),
            "SITE_URL": f"http://{HOST}:{NGINX_PORT}",
            "SHARED_MAX_AGE": str(SHARED_MAX_AGE),
            "STALE_WHILE_REVALIDATE": str(STALE_WHILE_REVALIDATE),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    # --- processes ----------------------------------------------------------
    def spawn(self, name, command, env=None):
        log_file = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the child)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env or self.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us, and we stop them in order
        )
        log_file.close()
        self.processes[name] = process
        return process

    def stop(self, name, sig=signal.SIGTERM, seconds=15):
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def manage(self, *args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise Failed(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    # --- PostgreSQL -----------------------------------------------------------
    def pg(self, *args, check=True):
        result = subprocess.run([*self.as_postgres, *args], capture_output=True, text=True, cwd="/")
        if check and result.returncode:
            raise Failed(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def init_postgres(self):
        self.pg_dir.mkdir()
        if self.as_postgres:
            shutil.chown(self.pg_dir, "postgres", "postgres")
        data = self.pg_dir / "data"
        self.pg(
            str(self.pg_bin / "initdb"), "-D", str(data), "-U", "postgres",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
        )  # fmt: skip
        self.start_postgres()
        self.psql("CREATE ROLE dateline LOGIN CREATEDB PASSWORD 'dateline'")
        self.psql("CREATE DATABASE dateline OWNER dateline")

    def start_postgres(self):
        options = (
            f"-p {PG_PORT} -c listen_addresses={HOST} -c unix_socket_directories={self.pg_dir}"
            " -c shared_buffers=64MB -c max_connections=100"
        )
        self.pg(
            str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_dir / "data"), "-l",
            str(self.pg_dir / "postgres.log"), "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip
        self.pg_started = True

    def stop_postgres(self, mode="fast"):
        self.pg(
            str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_dir / "data"), "-m", mode,
            "-w", "-t", "30", "stop",
        )  # fmt: skip
        self.pg_started = False

    def psql(self, sql, database="postgres"):
        return self.pg(
            str(self.pg_bin / "psql"), "-h", str(self.pg_dir), "-p", str(PG_PORT), "-U",
            "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAqc", sql,
        ).strip()  # fmt: skip

    # --- Redis ----------------------------------------------------------------
    def start_redis(self):
        folder = self.tmp / "redis"
        folder.mkdir(exist_ok=True)
        self.spawn(
            "redis",
            ["redis-server", "--bind", HOST, "--port", str(REDIS_PORT), "--dir", str(folder),
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
        )  # fmt: skip
        client = redis.Redis(host=HOST, port=REDIS_PORT, socket_timeout=1)
        wait_for("redis", client.ping, 10)
        return client

    # --- the app ----------------------------------------------------------------
    def start_app(self, name):
        port = APP_PORTS[name]
        env = {**self.env, "GUNICORN_BIND": f"{HOST}:{port}"}
        self.spawn(
            f"app-{name}",
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            env,
        )
        wait_for(f"app server {name}", lambda: get(port, "/healthz", timeout=2)[0] == 200, 60)

    def start_worker(self):
        """The task worker, restarted whenever it exits, as its supervisor would in production
        (docker's `restart:`, systemd's `Restart=`): it exits when the database goes away."""
        command = [sys.executable, "manage.py", "db_worker", "--no-reload"]
        self.worker_restarts = 0
        self.supervising = threading.Event()
        self.supervising.set()
        self.spawn("worker", command)
        self.worker_since = time.monotonic()

        def supervise():
            while self.supervising.is_set():
                time.sleep(0.5)
                with self.lock:
                    if self.supervising.is_set() and not self.alive("worker"):
                        self.worker_restarts += 1
                        self.spawn("worker", command)
                        self.worker_since = time.monotonic()

        self.supervisor = threading.Thread(target=supervise, daemon=True)
        self.supervisor.start()

    def start_nginx(self):
        run_dir = self.tmp / "nginx"
        run_dir.mkdir()
        run_dir.chmod(0o755)  # as root, nginx's workers run as nobody
        addresses = [f"{HOST}:{port}" for port in APP_PORTS.values()]
        config = nginx_config.write(f"{HOST}:{NGINX_PORT}", addresses, run_dir)
        self.nginx_log = run_dir / "access.log"
        self.spawn("nginx", nginx_config.nginx_command(config, run_dir))
        wait_for("nginx", lambda: get(NGINX_PORT, "/healthz", timeout=2)[0] == 200, 15)

    def alive(self, name):
        process = self.processes.get(name)
        return process is not None and process.poll() is None

    def close(self):
        if getattr(self, "supervisor", None):
            with self.lock:
                self.supervising.clear()
            self.supervisor.join()
        for name in ("nginx", "app-A", "app-B", "worker", "redis"):
            signal_ = signal.SIGQUIT if name == "nginx" else signal.SIGTERM
            try:
                self.stop(name, signal_)
            except Exception as error:  # noqa: BLE001 (stop everything else regardless)
                print(f"could not stop {name}: {error}", file=sys.stderr)
        for name in list(self.processes):
            self.stop(name, signal.SIGKILL)
        if self.pg_started or (self.pg_dir / "data" / "postmaster.pid").exists():
            self.pg(
                str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_dir / "data"), "-m",
                "immediate", "-w", "stop", check=False,
            )  # fmt: skip

    def tail_logs(self, lines=15):
        files = [
            *self.logs.glob("*.log"),
            self.pg_dir / "postgres.log",
            self.tmp / "nginx/error.log",
        ]
        for path in files:
            if path.exists() and path.stat().st_size:
                text = path.read_text(errors="replace").splitlines()[-lines:]
                print(f"--- {path.name} (last {len(text)} lines)", file=sys.stderr)
                print("\n".join(text), file=sys.stderr)


class Load:
    """wrk against nginx in the background, for one phase."""

    def __init__(self, cluster, paths, seconds=LOAD_SECONDS):
        script = cluster.tmp / "load.lua"
        lua_paths = "{" + ", ".join(json.dumps(path) for path in paths) + "}"
        script.write_text(LOAD_SCRIPT.replace("{PATHS}", lua_paths))
        self.command = [
            "wrk",
            *WRK,
            f"-d{seconds}s",
            "-s",
            str(script),
            f"http://{HOST}:{NGINX_PORT}/",
        ]
        self.result = None

    def __enter__(self):
        self.started = time.time()
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        return self

    def __exit__(self, error_type, *exc):
        if error_type is not None:  # the phase broke: no result to wait for
            self.process.kill()
            self.process.wait()
            return False
        output, _ = self.process.communicate()
        marker = [line for line in output.splitlines() if line.startswith("CLUSTER_RESULT ")]
        if not marker:
            raise Failed(f"wrk gave no result:\n{output}")
        self.result = json.loads(marker[0].removeprefix("CLUSTER_RESULT "))
        self.result["socket_errors"] = sum(
            self.result[k] for k in ("connect", "read", "write", "timeout")
        )
        self.result["errors"] = self.result["status"] + self.result["socket_errors"]
        return False

    def stop_early(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)


class Probe(threading.Thread):
    """A reader asking nginx for an uncached page every 0.1 s: when did it fail, when not."""

    def __init__(self):
        super().__init__(daemon=True)
        self.results = []  # (sent at, status or None)
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            sent = time.time()
            try:
                status = get(NGINX_PORT, f"/search/?q=probe+{secrets.token_hex(6)}", timeout=5)[0]
            except OSError:
                status = None
            self.results.append((sent, status))
            self.halt.wait(0.1)

    def stop(self):
        self.halt.set()
        self.join()


def ok(status):
    return status is not None and 200 <= status < 400


class Editor:
    """A logged-in editor on one app server, over plain HTTP with CSRF tokens."""

    def __init__(self, port, password):
        self.base = f"http://{HOST}:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        html = self.open("/admin/login/").read().decode()
        self.open(
            "/admin/login/?next=/admin/",
            {"username": EDITOR, "password": password, "csrfmiddlewaretoken": token(html)},
        )
        if not any(cookie.name == "sessionid" for cookie in self.jar):
            raise Failed("the editor could not log in at app server A")

    def open(self, path, form=None, headers=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        return self.opener.open(request, timeout=15)

    def add_update(self, post_path, body):
        """Post an update with the page's quick-add form; its id."""
        html = self.open(post_path).read().decode()
        form = {"kind": "update", "body": body, "csrfmiddlewaretoken": token(html)}
        try:
            response = self.open(post_path + "updates/", form, {"Accept": "application/json"})
        except urllib.error.HTTPError as error:
            raise Failed(f"adding an update answered {error.code}: {error.read()[:500]}") from error
        if response.status != 201:
            raise Failed(f"adding an update answered {response.status}")
        return json.loads(response.read())["id"]


def token(html):
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not found:
        raise Failed("no CSRF token in the page")
    return found.group(1)


def shared_lifetime(cache_control):
    """s-maxage + stale-while-revalidate of a Cache-Control header, in seconds."""
    values = dict(re.findall(r"([a-z-]+)=(\d+)", cache_control))
    return int(values.get("s-maxage", values.get("max-age", 0))) + int(
        values.get("stale-while-revalidate", 0)
    )


# --- the phases -------------------------------------------------------------


def publish_and_read(cluster, editor, paths):
    phase = Phase("1. update via A, read via nginx and B")
    post = paths["post"]
    for _ in range(2):  # nginx holds the page now
        status, headers, _ = get(NGINX_PORT, post)
    cache_control = headers.get("Cache-Control", "")
    phase.check(
        "nginx caches the post page (X-Cache-Status HIT)", headers.get("X-Cache-Status") == "HIT"
    )
    bound = shared_lifetime(cache_control) + 2
    text = f"Cluster check {secrets.token_hex(4)}: the council reconvenes."
    editor.add_update(post, text)
    published = time.monotonic()
    seen, polls = {}, 0
    while len(seen) < 2 and time.monotonic() - published < bound + 5:
        for name, port in (("nginx", NGINX_PORT), ("B", APP_PORTS["B"])):
            if name not in seen:
                polls += 1
                if text in get(port, post)[2]:
                    seen[name] = time.monotonic() - published
        time.sleep(0.2)
    for name in ("nginx", "B"):
        phase.check(f"seen through {name} within {bound} s", seen.get(name, 1e9) <= bound)
    phase.requests = polls
    shown = ", ".join(
        f"{name} {seen[name]:.1f} s" if name in seen else f"{name} never" for name in ("nginx", "B")
    )
    phase.detail = f"visible: {shown} (bound {bound} s: {cache_control})"
    return phase


def restart_app(cluster, load_paths):
    phase = Phase("2. restart app server A")
    # Load until A has been back a while, however long its start takes on a busy machine.
    with Load(cluster, load_paths, seconds=60) as load:
        time.sleep(2)
        stopped = time.monotonic()
        cluster.stop("app-A", signal.SIGTERM, seconds=20)
        down = time.monotonic() - stopped
        time.sleep(1)  # A really gone for a moment: nginx must route around it
        cluster.start_app("A")
        back = time.monotonic() - stopped
        offset = cluster.nginx_log.stat().st_size
        time.sleep(3)
        load.stop_early()
    result = load.result
    served_by_a = served_by(cluster, APP_PORTS["A"], offset)
    phase.requests, phase.errors = result["requests"], result["errors"]
    phase.check("no errors while A restarts", result["errors"] == 0)
    phase.check("nginx sends readers to A again once it is back", served_by_a > 0)
    phase.detail = (
        f"A stopped in {down:.1f} s, serving again {back:.1f} s after SIGTERM, then answered "
        f"{served_by_a} requests in 3 s; {codes(result)}"
    )
    return phase


def served_by(cluster, port, offset=0):
    """Requests nginx sent to the app server on `port` since `offset` in its access log."""
    with cluster.nginx_log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode(errors="replace")
    return len(re.findall(rf"upstream=[^ ]*{HOST}:{port}\b", text))


def restart_postgres(cluster, editor, paths, load_paths):
    phase = Phase("3. restart PostgreSQL")
    # One more update just before the restart: it must survive it.
    last_id = editor.add_update(paths["post"], f"Saved before the restart {secrets.token_hex(4)}.")
    before = int(cluster.psql("SELECT count(*) FROM blog_update", "dateline"))
    probe = Probe()
    probe.start()
    with Load(cluster, load_paths) as load:
        time.sleep(2)
        down_at = time.time()
        cluster.stop_postgres("fast")
        time.sleep(2)  # down long enough for readers to notice
        cluster.start_postgres()
        up_at = time.time()
    probe.stop()
    after = int(cluster.psql("SELECT count(*) FROM blog_update", "dateline"))
    kept = cluster.psql(f"SELECT count(*) FROM blog_update WHERE id = {int(last_id)}", "dateline")
    result = load.result
    phase.requests, phase.errors = result["requests"], result["errors"]

    recovered = [
        sent for sent, status in probe.results if sent >= up_at and ok(status)
    ]  # first probe sent after the start that was served
    recovery = (recovered[0] - up_at) if recovered else float("inf")
    window = (int(down_at), int(up_at + DB_RECOVERY_BOUND) + 1)
    stray = {
        int(second): n for second, n in result["bad_seconds"].items()
        if not window[0] <= int(second) <= window[1]
    }  # fmt: skip
    stray_probes = [
        sent for sent, status in probe.results
        if not ok(status) and not down_at - 0.5 <= sent <= up_at + DB_RECOVERY_BOUND
    ]  # fmt: skip
    phase.check("errors only while the database is down", not stray and not stray_probes)
    phase.check("no socket errors", result["socket_errors"] == 0)
    phase.check(
        f"the app serves from the database within {DB_RECOVERY_BOUND} s",
        recovery <= DB_RECOVERY_BOUND,
    )
    phase.check("no update lost", after >= before and kept == "1")
    phase.check(
        "the task worker is running again",
        cluster.alive("worker") and time.monotonic() - cluster.worker_since > 2,
    )
    phase.detail = (
        f"down {up_at - down_at:.1f} s, app recovered {recovery:.1f} s after start; "
        f"updates {before} before, {after} after; worker restarts "
        f"{cluster.worker_restarts}; {codes(result)}"
    )
    return phase


def kill_redis(cluster, load_paths, paths):
    phase = Phase("4. kill Redis")
    with Load(cluster, load_paths) as load:
        time.sleep(2)
        cluster.stop("redis", signal.SIGKILL)
        killed = time.monotonic()
        # Readers now get pages made from the database, through both app servers.
        down_statuses = [get(port, paths["post"])[0] for port in APP_PORTS.values()]
        time.sleep(3)
        client = cluster.start_redis()
        back = time.monotonic()
        pages = []
        while time.monotonic() - back < REDIS_REFILL_BOUND + 2:
            pages = list(client.scan_iter(match="*page:*", count=1000))
            if pages:
                break
            time.sleep(0.1)
        refill = time.monotonic() - back if pages else float("inf")
    # A page asked twice through B is then in Redis, fresh.
    for _ in range(2):
        get(APP_PORTS["B"], paths["post"])
    keys = client.dbsize()
    result = load.result
    phase.requests, phase.errors = result["requests"], result["errors"]
    phase.check("nothing fails while Redis is down", result["errors"] == 0)
    phase.check("app servers answer 200 without Redis", down_statuses == [200, 200])
    phase.check(
        f"pages cached in Redis again within {REDIS_REFILL_BOUND} s", refill <= REDIS_REFILL_BOUND
    )
    phase.detail = (
        f"Redis down {back - killed:.1f} s; pages in Redis {refill:.1f} s after its restart, "
        f"{keys} keys; {codes(result)}"
    )
    return phase


def codes(result):
    return "statuses " + ", ".join(f"{k}:{v}" for k, v in sorted(result["codes"].items()))


def revalidations(cluster):
    """nginx's revalidations of stale pages that the app answered 304 (their ETag held)."""
    text = cluster.nginx_log.read_text(errors="replace")
    return len(re.findall(r"upstream_status=304\b", text))


def table(phases, extra):
    rows = [("phase", "requests", "errors", "result", "details")]
    for phase in phases:
        verdict = "pass" if phase.passed else "FAIL"
        rows.append((phase.name, str(phase.requests), str(phase.errors), verdict, phase.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        lines.append(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        )
        if row is rows[0]:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 7)
    for phase in phases:
        for what, passed in phase.bounds:
            if not passed:
                lines.append(f"FAILED: {phase.name}: {what}")
    return "\n".join([*lines, "", *extra])


def require_tools():
    missing = [tool for tool in ("nginx", "wrk", "redis-server") if not shutil.which(tool)]
    if missing:
        raise Failed(f"missing: {' '.join(missing)} (apt-get install {' '.join(missing)})")
    postgres_bin()
    busy = [
        port for port in (PG_PORT, REDIS_PORT, NGINX_PORT, *APP_PORTS.values()) if port_open(port)
    ]
    if busy:
        raise Failed(f"ports already in use: {busy}; is another cluster test running?")


def run(args):
    started = time.monotonic()
    require_tools()
    tmp = Path(tempfile.mkdtemp(prefix="dateline-cluster-"))
    tmp.chmod(0o755)  # the postgres and nginx users reach their own folders inside
    cluster = Cluster(tmp)
    passed = False
    try:
        log(f"PostgreSQL {cluster.pg_bin.parent.name} on {PG_PORT}, Redis on {REDIS_PORT} ({tmp})")
        cluster.init_postgres()
        cluster.start_redis()
        log("migrate, collectstatic, demo content, an editor")
        cluster.manage("migrate", "--noinput")
        cluster.manage("collectstatic", "--noinput")
        cluster.manage("demo")
        password = secrets.token_urlsafe(16)
        output = cluster.manage("shell", "-c", SETUP_SHELL.format(editor=EDITOR, password=password))
        marker = next(line for line in output.splitlines() if line.startswith("CLUSTER_PATHS "))
        paths = json.loads(marker.removeprefix("CLUSTER_PATHS "))
        log(f"app servers on {sorted(APP_PORTS.values())}, the worker, nginx on {NGINX_PORT}")
        cluster.start_app("A")
        cluster.start_app("B")
        cluster.start_worker()
        cluster.start_nginx()
        ready = time.monotonic() - started
        load_paths = ["/", paths["post"], "SEARCH", paths["category"], "/feed/", paths["updates"],
                      "/sources/", "SEARCH"]  # fmt: skip

        phases = []
        editor = Editor(APP_PORTS["A"], password)
        for step in (
            lambda: publish_and_read(cluster, editor, paths),
            lambda: restart_app(cluster, load_paths),
            lambda: restart_postgres(cluster, editor, paths, load_paths),
            lambda: kill_redis(cluster, load_paths, paths),
        ):
            phase = step()
            phases.append(phase)
            log(f"{phase.name}: {'pass' if phase.passed else 'FAIL'}; {phase.detail}")
        count = revalidations(cluster)
        elapsed = time.monotonic() - started
        summary = table(
            phases,
            [
                f"nginx revalidated stale pages with the app's ETags: {count} answered 304",
                f"setup {ready:.0f} s, whole run {elapsed:.0f} s; load: wrk {' '.join(WRK)} "
                f"{LOAD_SECONDS} s a phase against nginx; s-maxage {SHARED_MAX_AGE} s, "
                f"stale-while-revalidate {STALE_WHILE_REVALIDATE} s",
            ],
        )
        passed = all(phase.passed for phase in phases) and count > 0
        if count == 0:
            summary += "\nFAILED: nginx never revalidated a page with the app (no 304)"
        print("\n" + summary + "\n")
        if args.summary:
            Path(args.summary).write_text(summary + "\n")
        return passed
    except Exception:
        cluster.tail_logs()
        raise
    finally:
        log("stopping everything")
        cluster.close()
        if args.keep or not passed:
            print(f"logs and data kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--summary", help="also write the summary table to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and logs")
    args = parser.parse_args()
    # Ctrl-C or a `kill` stops the run, and everything it started (even when run in the
    # background, where a shell starts it with Ctrl-C ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        passed = run(args)
    except Failed as error:
        print(f"cluster-test: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
