"""The nginx config in front of the app servers, filled in: config/nginx/dateline.conf.template.

    render(listen, upstream_servers, run_dir) -> str

`listen` is what nginx listens on ("127.0.0.1:8180", "80"); `upstream_servers` the app
servers' "host:port" addresses; `run_dir` an existing directory nginx may write (pid file,
logs, temp files, cache). Run the result with
`nginx -p RUN_DIR -e RUN_DIR/error.log -c FILE -g 'daemon off;'` (see nginx_command()).
"""

import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "config" / "nginx" / "dateline.conf.template"
PLACEHOLDER = re.compile(r"\$\{(DATELINE_[A-Z_]+)\}")

# One failure takes a server out of the rotation for this long; then nginx tries it again.
SERVER_OPTIONS = "max_fails=1 fail_timeout=2s"


def upstream_lines(addresses):
    """The DATELINE_UPSTREAM value for these "host:port" addresses."""
    if not addresses:
        raise ValueError("nginx needs at least one app server.")
    return " ".join(f"server {address} {SERVER_OPTIONS};" for address in addresses)


def render(listen, upstream_servers, run_dir, template=TEMPLATE):
    """The template with its three placeholders filled, as envsubst would fill them."""
    values = {
        "DATELINE_LISTEN": str(listen),
        "DATELINE_UPSTREAM": upstream_lines(list(upstream_servers)),
        "DATELINE_RUN_DIR": str(Path(run_dir).resolve()),
    }

    def fill(match):
        name = match.group(1)
        if name not in values:
            raise KeyError(f"{template} has a placeholder render() does not know: {name}")
        return values[name]

    return PLACEHOLDER.sub(fill, Path(template).read_text())


def nginx_command(config_file, run_dir, nginx="nginx"):
    """The command that runs the rendered config in the foreground (no daemon)."""
    run_dir = str(Path(run_dir).resolve())
    return [
        nginx,
        "-p",
        run_dir,
        "-e",
        f"{run_dir}/error.log",
        "-c",
        str(config_file),
        "-g",
        "daemon off;",
    ]


def write(listen, upstream_servers, run_dir):
    """Render into RUN_DIR/nginx.conf and return its path."""
    path = Path(run_dir) / "nginx.conf"
    path.write_text(render(listen, upstream_servers, run_dir))
    return path
