"""docker-compose.yml, Dockerfile and .env.example, checked without Docker.

The variables the settings read are found by parsing config/settings.py (and
config/gunicorn.py) each run, so a setting added there is checked here at once.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import cluster, nginx_config

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILES = [ROOT / "config" / "settings.py", ROOT / "config" / "gunicorn.py"]
APP_SERVICES = ("web", "worker")
TEMPLATE_IN_CONTAINER = "/etc/nginx/templates/nginx.conf.template"


# --- What the settings read -------------------------------------------------


def is_environ(node):
    """`os.environ` (or a bare `environ`)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def environ_helpers(tree):
    """Module-level functions that look their first argument up in os.environ (env_bool…).

    Maps each to whether it has a default: it does if it uses environ.get or getenv (None
    at least), not if it indexes environ[name].
    """
    helpers = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.args.args:
            continue
        first = node.args.args[0].arg

        def is_name(arg, first=first):
            return isinstance(arg, ast.Name) and arg.id == first

        gets = any(
            isinstance(inner, ast.Call)
            and inner.args
            and is_name(inner.args[0])
            and isinstance(inner.func, ast.Attribute)
            and (inner.func.attr == "getenv" or is_environ(inner.func.value))
            for inner in ast.walk(node)
        )
        indexes = any(
            isinstance(inner, ast.Subscript) and is_environ(inner.value) and is_name(inner.slice)
            for inner in ast.walk(node)
        )
        if gets or indexes:
            helpers[node.name] = gets
    return helpers


def literal_names(tree):
    """Loop variables over literal tuples of names: `for name in ("A", "B"): environ.get(name)`."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            try:
                values = ast.literal_eval(node.iter)
            except ValueError:
                continue
            if all(isinstance(value, str) for value in values):
                names[node.target.id] = list(values)
    return names


def guarded_reads(tree):
    """environ["X"] inside `if environ.get("X"):` or `if "X" in environ:` reads X only when set."""
    guarded = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        tested = {
            inner.value
            for inner in ast.walk(node.test)
            if isinstance(inner, ast.Constant) and isinstance(inner.value, str)
        }
        for statement in node.body:
            for inner in ast.walk(statement):
                if (
                    isinstance(inner, ast.Subscript)
                    and is_environ(inner.value)
                    and isinstance(inner.slice, ast.Constant)
                    and inner.slice.value in tested
                ):
                    guarded.add(id(inner))
    return guarded


def environment_reads(path):
    """{name: has a default} for every environment variable the file reads, and the reads
    whose name the test cannot work out (which it reports rather than ignore)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    helpers = environ_helpers(tree)
    loops = literal_names(tree)
    helper_bodies = {
        id(inner)
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in helpers
        for inner in ast.walk(node)
    }
    guarded = guarded_reads(tree)
    found, unknown = {}, []

    def record(name_node, has_default):
        if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
            names = [name_node.value]
        elif isinstance(name_node, ast.Name) and name_node.id in loops:
            names = loops[name_node.id]
        else:
            unknown.append(f"{path.name}:{name_node.lineno}")
            return
        for name in names:
            found[name] = found.get(name, True) and has_default

    for node in ast.walk(tree):
        if id(node) in helper_bodies:
            continue
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "get" and is_environ(func.value):
                # environ.get(X) without a default gives None, which the settings handle.
                record(node.args[0], True)
            elif isinstance(func, ast.Attribute) and func.attr == "getenv":
                record(node.args[0], True)
            elif isinstance(func, ast.Name) and func.id in helpers:
                record(node.args[0], helpers[func.id])
        elif (
            isinstance(node, ast.Subscript)
            and is_environ(node.value)
            and isinstance(node.ctx, ast.Load)
        ):
            record(node.slice, id(node) in guarded)
        elif (
            isinstance(node, ast.Compare)
            and isinstance(node.ops[0], ast.In | ast.NotIn)
            and is_environ(node.comparators[0])
        ):
            record(node.left, True)
    return found, unknown


def settings_variables():
    found, unknown = {}, []
    for path in SETTINGS_FILES:
        more, missed = environment_reads(path)
        unknown += missed
        for name, has_default in more.items():
            found[name] = found.get(name, True) and has_default
    assert not unknown, f"Environment reads with names this test cannot see: {unknown}"
    return found


# --- docker compose's view of the files -------------------------------------

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


class MissingVariable(Exception):
    pass


def interpolate(value, env):
    """What compose makes of ${X}, ${X:-default}, ${X-default}, ${X:?error}, ${X?error}, $$."""

    def fill(match):
        if match.group("escaped"):
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        present, value = name in env, env.get(name, "")
        if op in {":?", "?"} and not (value if op == ":?" else present):
            raise MissingVariable(f"{name}: {arg}")
        if op == ":-":
            return value or arg
        if op == "-":
            return value if present else arg
        return value

    return INTERPOLATION.sub(fill, str(value))


def env_file(path):
    """KEY=value lines, as compose reads .env (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def documented(path):
    """Every variable .env.example names, set or commented out (`# NAME=value`)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", path.read_text(), re.MULTILINE))


def compose():
    return yaml.safe_load(COMPOSE.read_text())


def operator_env():
    """A .env made from .env.example, with the values it asks for filled in."""
    env = env_file(ENV_EXAMPLE)
    for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):\?", COMPOSE.read_text()):
        env[name] = env.get(name) or "filled-in"
    return env


def container_env(service, dotenv):
    """What the container's process sees: env_file .env, then `environment` over it."""
    env = {}
    for entry in service.get("env_file") or []:
        path = entry["path"] if isinstance(entry, dict) else entry
        if path == ".env":
            env.update(dotenv)
    env.update({key: interpolate(value, dotenv) for key, value in service["environment"].items()})
    return env


def import_settings(env):
    """Load config/settings.py in a fresh interpreter with exactly this environment."""
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
    )


def command_text(service):
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


# --- Environment ------------------------------------------------------------


def test_the_settings_read_variables_this_test_can_see():
    found = settings_variables()
    # The ones every deployment sets: if these vanish, the parsing is broken.
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "PRODUCTION"} <= set(found)
    assert "WEB_CONCURRENCY" in found  # config/gunicorn.py's too


def test_a_variable_read_without_a_default_counts_as_required(tmp_path):
    settings = tmp_path / "settings.py"
    settings.write_text(
        "import os\n"
        "def env_int(name, default):\n"
        "    return int(os.environ.get(name, default))\n"
        "def env_needed(name):\n"
        "    return os.environ[name]\n"
        'KEY = os.environ["NEEDED"]\n'
        'HUB = os.environ.get("OPTIONAL")\n'
        'if os.environ.get("BUCKET"):\n'
        '    BUCKET = os.environ["BUCKET"]\n'
        'WORKERS = env_int("WORKERS", 3)\n'
        'TOKEN = env_needed("TOKEN")\n'
    )
    found, unknown = environment_reads(settings)
    assert found == {
        "NEEDED": False,
        "OPTIONAL": True,
        "BUCKET": True,
        "WORKERS": True,
        "TOKEN": False,
    }
    assert unknown == []


def test_env_example_lists_every_variable_the_settings_read():
    missing = sorted(set(settings_variables()) - documented(ENV_EXAMPLE))
    assert not missing, f".env.example does not list: {missing}"


def test_env_example_lists_every_variable_compose_asks_for():
    asked = {match.group("name") for match in INTERPOLATION.finditer(COMPOSE.read_text())}
    asked.discard(None)
    missing = sorted(asked - documented(ENV_EXAMPLE))
    assert not missing, f".env.example does not list: {missing}"


def test_variables_without_a_default_are_given_to_web_and_worker():
    required = {name for name, has_default in settings_variables().items() if not has_default}
    services = compose()["services"]
    for name in APP_SERVICES:
        missing = sorted(required - set(services[name]["environment"]))
        assert not missing, f"{name} is not given {missing}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_production_settings_load_with_what_compose_gives_the_app(name):
    env = container_env(compose()["services"][name], operator_env())
    assert env["PRODUCTION"] == "1"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    result = import_settings(env)
    assert result.returncode == 0, result.stderr


def test_production_settings_refuse_to_load_without_the_secret_key():
    # The check above can fail: the same environment less SECRET_KEY is refused.
    env = container_env(compose()["services"]["web"], operator_env())
    del env["SECRET_KEY"]
    result = import_settings(env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_compose_will_not_start_until_the_secrets_are_filled_in():
    dotenv = env_file(ENV_EXAMPLE)  # copied, not yet edited
    with pytest.raises(MissingVariable, match="SECRET_KEY|ALLOWED_HOSTS|SITE_URL|POSTGRES"):
        container_env(compose()["services"]["web"], dotenv)


# --- Services ---------------------------------------------------------------


def test_compose_runs_exactly_the_five_services():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker", "nginx"}
    assert services["db"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["nginx"]["image"].startswith("nginx:")
    assert services["web"]["build"] == services["worker"]["build"] == "."


@pytest.mark.parametrize("name", ["db", "redis", "web"])
def test_services_others_wait_for_have_healthchecks(name):
    healthcheck = compose()["services"][name].get("healthcheck")
    assert healthcheck and healthcheck.get("test"), f"{name} has no healthcheck"


def test_app_waits_for_healthy_database_and_cache_and_nginx_for_the_app():
    services = compose()["services"]
    assert services["web"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_web_migrates_and_collects_static_files_before_gunicorn_starts():
    command = command_text(compose()["services"]["web"])
    steps = [
        "manage.py migrate --noinput",
        "manage.py collectstatic --noinput",
        "gunicorn -c config/gunicorn.py config.wsgi",
    ]
    positions = [command.find(step) for step in steps]
    assert -1 not in positions, command
    assert positions == sorted(positions), command
    # Chained with &&: a failed migration stops the start.
    between = [command[positions[i] : positions[i + 1]] for i in range(2)]
    assert all("&&" in part for part in between), command


def test_worker_runs_the_task_worker():
    assert "manage.py db_worker" in command_text(compose()["services"]["worker"])


def test_the_image_runs_as_a_user_other_than_root():
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert users, "the Dockerfile never leaves root"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_installs_pg_dump_of_the_compose_databases_version():
    # manage.py backup needs pg_dump of the server's major version.
    major = compose()["services"]["db"]["image"].split(":")[1].split("-")[0].split(".")[0]
    assert f"PG_MAJOR={major}" in (ROOT / "Dockerfile").read_text()


# --- nginx ------------------------------------------------------------------


def nginx_binary():
    path = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("CI needs nginx for `nginx -t` (apt-get install -y nginx)")
    pytest.skip("nginx is not installed (apt-get install -y nginx): cannot run `nginx -t`")


def nginx_test(config_text, run_dir):
    config = run_dir / "nginx.conf"
    config.write_text(config_text)
    return subprocess.run(
        [nginx_binary(), "-t", "-p", str(run_dir), "-e", str(run_dir / "error.log"), "-c", config],
        capture_output=True,
        text=True,
    )


def envsubst(template, env):
    """The official image's envsubst: only variables set in the environment are replaced."""
    return re.sub(
        r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
        lambda match: env.get(match.group(1), match.group(0)),
        template,
    )


def nginx_service():
    return compose()["services"]["nginx"]


def test_compose_nginx_uses_the_cluster_tested_template_as_its_whole_config():
    service = nginx_service()
    mounts = [volume.split(":") for volume in service["volumes"]]
    sources = {target: source for source, target, *_ in mounts}
    assert (ROOT / sources[TEMPLATE_IN_CONTAINER]).resolve() == nginx_config.TEMPLATE
    # The image writes templates/<name>.template to $NGINX_ENVSUBST_OUTPUT_DIR/<name>.
    assert service["environment"]["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    assert Path(TEMPLATE_IN_CONTAINER).name == "nginx.conf.template"


def test_compose_nginx_config_is_the_cluster_config_with_compose_addresses():
    env = nginx_service()["environment"]
    rendered = envsubst(nginx_config.TEMPLATE.read_text(), env)
    assert "${DATELINE_" not in rendered, "compose leaves a placeholder unset"
    # Exactly what render() makes with compose's values: only the addresses differ.
    assert rendered == nginx_config.render(
        env["DATELINE_LISTEN"], ["web:8000"], env["DATELINE_RUN_DIR"]
    )


def test_nginx_accepts_the_config_rendered_as_compose_renders_it(tmp_path):
    env = dict(nginx_service()["environment"])
    # `nginx -t` resolves upstream names and `web` exists only on the compose network, so
    # a loopback stand-in takes its place; the run dir is one this test may write.
    env["DATELINE_UPSTREAM"] = env["DATELINE_UPSTREAM"].replace("web:8000", "127.0.0.1:8000")
    env["DATELINE_RUN_DIR"] = str(tmp_path)
    result = nginx_test(envsubst(nginx_config.TEMPLATE.read_text(), env), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_accepts_the_config_rendered_as_the_cluster_test_renders_it(tmp_path):
    # tests/cluster.py's own addresses: nginx before app servers A and B.
    addresses = [f"{cluster.HOST}:{port}" for port in cluster.APP_PORTS.values()]
    config = nginx_config.render(f"{cluster.HOST}:{cluster.NGINX_PORT}", addresses, tmp_path)
    result = nginx_test(config, tmp_path)
    assert result.returncode == 0, result.stderr


def test_nginx_check_fails_on_a_broken_config(tmp_path):
    # The two checks above can fail: a config nginx cannot read is refused.
    config = nginx_config.render("127.0.0.1:8180", ["127.0.0.1:8181"], tmp_path)
    result = nginx_test(config.replace("proxy_cache_lock on;", "proxy_cache_lock maybe;"), tmp_path)
    assert result.returncode != 0
