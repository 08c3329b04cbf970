"""gunicorn's settings for Dateline: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value can be changed from the environment, so one file serves Docker, the cluster
test (tests/cluster.py) and a plain server.
"""

import multiprocessing
import os


def number(name, default):
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Requests mostly wait on the database and the cache: a few processes per core, each
# with a few threads, keep the cores busy without a process per connection.
workers = number("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = number("GUNICORN_THREADS", 4)
worker_class = "gthread"
# A request slower than this is stuck: the worker is replaced.
timeout = number("GUNICORN_TIMEOUT", 30)
# On SIGHUP or SIGTERM, requests in flight get this long to finish.
graceful_timeout = number("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = number("GUNICORN_KEEPALIVE", 5)
# Workers are replaced after this many requests (jittered, so not all at once): a slow
# leak in any library never grows without bound.
max_requests = number("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = number("GUNICORN_MAX_REQUESTS_JITTER", 200)
# The app's own JSON logs go to stdout; gunicorn's access log would repeat them.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Load the app in each worker, not the master: a reload (SIGHUP) then picks up new code,
# and no database connection is shared across a fork.
preload_app = False
# gunicorn's control socket sits at one path per user: two app servers on one machine
# would share it. Off unless a path is given.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
# Behind nginx on the same machine or network: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
