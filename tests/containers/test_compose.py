"""compose-example.yml, run with docker-compose against our dockerd (issue 9): the course's app and a
second replica start at once, `manage.py migrate` runs exactly once between them, the JSON view
answers, and `docker-compose stop` ends the app at once with exit 0. Our machines have host
networking only, so the test runs the file through a test-only override: every service on the
host's network, on free ports, the database at 127.0.0.1 (compose cannot drop `ports:` in an
override, so the merged file has them removed)."""
import json
import os
import subprocess
import time
import urllib.request
import uuid

import yaml

from harness import ROOT
from pgserver import PG_BIN, free_port

EXAMPLE = os.path.join(ROOT, "compose-example.yml")
PASSWORD = "example-only-password"  # as in compose-example.yml


def test_the_compose_file_is_valid():
    subprocess.run(["docker-compose", "-f", EXAMPLE, "config", "-q"], check=True)


def host_network_file(engine, directory, db_port, web_port, worker_port):
    app = {"DB_HOST": "127.0.0.1", "DB_PORT": str(db_port)}
    override = {"version": "3.7", "services": {
        "db": {"network_mode": "host", "command": ["postgres", "-p", str(db_port)],
               "environment": {"PGPORT": str(db_port)}},
        "web": {"network_mode": "host", "environment": app,
                "command": ["gunicorn", "--bind", f"127.0.0.1:{web_port}", "--workers", "2", "course.wsgi"]},
        "worker": {"network_mode": "host", "environment": app,
                   "command": ["gunicorn", "--bind", f"127.0.0.1:{worker_port}", "--workers", "2", "course.wsgi"]},
    }}
    override_path = os.path.join(directory, "override.yml")
    with open(override_path, "w") as f:
        yaml.safe_dump(override, f)
    merged = yaml.safe_load(engine.compose("-f", EXAMPLE, "-f", override_path, "config").stdout)
    for service in merged["services"].values():
        service.pop("ports", None)
        if "build" in service:
            service["build"]["context"] = os.path.join(ROOT, "examples", "django")
    path = os.path.join(directory, "compose-host-network.yml")
    with open(path, "w") as f:
        yaml.safe_dump(merged, f)
    return path


def get_json(url, timeout=180):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except OSError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.5)


def test_compose_up_migrates_once_answers_and_stops_at_once(engine, django_image, tmp_path):
    db_port, web_port, worker_port = free_port(), free_port(), free_port()
    compose_file = host_network_file(engine, tmp_path, db_port, web_port, worker_port)
    project = ["-p", f"pginit{uuid.uuid4().hex[:6]}", "-f", compose_file]
    try:
        engine.compose(*project, "up", "-d")
        assert get_json(f"http://127.0.0.1:{web_port}/") == {"todos": []}
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        subprocess.run([f"{PG_BIN}/psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(db_port), "-U", "app", "-d", "app",
                        "-c", "INSERT INTO todos_todo (title, done, created) VALUES ('from the test', false, now())"],
                       env=env, check=True)
        assert get_json(f"http://127.0.0.1:{worker_port}/todos/") == {
            "todos": [{"id": 1, "title": "from the test", "done": False}]}

        web_logs = engine.compose(*project, "logs", "--no-color", "web").stdout
        worker_logs = engine.compose(*project, "logs", "--no-color", "worker").stdout
        ran = [logs for logs in (web_logs, worker_logs) if "started the migrate command" in logs]
        skipped = [logs for logs in (web_logs, worker_logs) if "skipped the migrate command" in logs]
        assert len(ran) == 1 and len(skipped) == 1, f"web:\n{web_logs}\nworker:\n{worker_logs}"
        fingerprints = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-h", "127.0.0.1", "-p", str(db_port), "-U",
                                       "app", "-d", "app", "-c", "SELECT count(*) FROM pginit_migrations_fingerprints"],
                                      env=env, check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
        assert fingerprints == "1"

        web = engine.compose(*project, "ps", "-q", "web").stdout.strip()
        started = time.monotonic()
        engine.compose(*project, "stop", "-t", "10", "web")
        stopped_after = time.monotonic() - started
        assert engine.docker("inspect", "-f", "{{.State.ExitCode}}", web).stdout.strip() == "0"
        # At once means on the SIGTERM, not at docker's SIGKILL after -t 10 (that would be exit 137). Half the
        # grace, not a speed: compose's own round trips took 2.05 s once, with every other phase running beside.
        assert stopped_after < 5.0, f"docker-compose stop took {stopped_after:.2f}s"
        print(f"\ncompose: web stopped in {stopped_after:.2f}s with exit 0")
    finally:
        engine.compose(*project, "down", "-v", check=False)
