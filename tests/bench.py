"""`make bench`: requests per second of the live-thread endpoint, 304 and 200, beside a
trivial view served the same way (gunicorn, same settings, same machine, same run).

Run from the project root: python -m tests.bench [--seconds 10] [--connections 32]
Uses wrk (Debian package) for the load. The database is a fresh SQLite file, or
BENCH_DATABASE_URL (a scratch database: the benchmark writes a story into it), and the
cache is a fresh file cache, or BENCH_REDIS_URL.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SEED = """
from datetime import timedelta
from django.utils import timezone
from tests.factories import PostFactory, UpdateFactory
from blog.models import Post
post = Post.objects.filter(slug="bench-story").first()
if post is None:
    post = PostFactory(slug="bench-story", is_developing=True,
                       published_at=timezone.now() - timedelta(hours=3))
for n in range(30 - post.updates.count()):
    UpdateFactory(post=post, body=f"Update {n}: " + "Council news. " * 40,
                  published_at=post.published_at + timedelta(minutes=n))
print(post.get_absolute_url())
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url, seconds, connections, headers=()):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+(\S+)", output).group(1)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, p99, int(non_2xx.group(1)) if non_2xx else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="dateline-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ROOT_URLCONF": "tests.bench_urls",
        "DEBUG": "0",
        "CACHE_DIR": str(workdir / "cache"),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
        or f"sqlite:///{workdir / 'bench.sqlite3'}",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", ""),
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    story = (
        subprocess.run(
            [python, "-c", f"import django; django.setup()\n{SEED}"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/trivial/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        updates = f"{base}{story}updates/"
        etag = urllib.request.urlopen(updates).headers["ETag"]
        rows = [
            ("trivial view", *wrk(f"{base}/bench/trivial/", args.seconds, args.connections)),
            ("updates, 200", *wrk(updates, args.seconds, args.connections)),
            (
                "updates, 304",
                *wrk(updates, args.seconds, args.connections, [f"If-None-Match: {etag}"]),
            ),
        ]
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    engine = env["DATABASE_URL"].split(":", 1)[0]
    print(
        f"\ngunicorn, {args.workers} workers; wrk -t2 -c{args.connections} -d{args.seconds}s; "
        f"database {engine}; {os.cpu_count()} cores"
    )
    print(f"{'endpoint':<14} {'req/s':>9} {'p99':>9} {'vs trivial':>11} {'non-2xx/3xx':>12}")
    trivial = rows[0][1]
    for name, rate, p99, errors in rows:
        print(f"{name:<14} {rate:>9.0f} {p99:>9} {rate / trivial:>10.2f}x {errors:>12}")


if __name__ == "__main__":
    main()
