"""examples/kubernetes run for real with `podman kube play` (issue 9): the init container migrates
once before the app starts, and a failing migration keeps the app from starting.

What the test changes, and why (CONTAINERS.md): the Deployment's pod template runs as a `kind: Pod`
with restartPolicy Never (podman 4.3 restarts init containers in a loop under a Deployment's
Always) and host networking (so no containerPort mappings, which podman refuses there); the database is the test's Postgres on 127.0.0.1; Secrets become
ConfigMaps with the same keys, mounted at the same path (podman 4.3's kube play crashes on secret
volumes: it passes no secrets manager; fixed upstream); the app listens on a free port."""
import json
import os
import time
import urllib.request

import pytest
import yaml

from harness import ROOT, Podman
from pgserver import APP_PASSWORD, free_port

EXAMPLES = os.path.join(ROOT, "examples", "kubernetes")
@pytest.fixture(scope="module")
def podman(engine, images, django_image):
    runner = Podman(engine.storage_driver)
    try:
        runner.load_from(engine, django_image, images["debian"])
        yield runner
    finally:
        runner.close()


def runnable_pod(example, env, args=None, config_maps=None):
    """The example's objects with its Deployment's pod template as a Pod podman can run (see above).
    `env` replaces variables of every container, `args` the app container's args, `config_maps`
    entries of its ConfigMaps."""
    objects = list(yaml.safe_load_all(open(os.path.join(EXAMPLES, example))))
    runnable = []
    for item in objects:
        if item["kind"] == "Secret":
            item = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": item["metadata"], "data": item["stringData"]}
        if item["kind"] == "ConfigMap":
            item["data"].update(config_maps or {})
        if item["kind"] == "Deployment":
            spec = item["spec"]["template"]["spec"]
            spec.update(restartPolicy="Never", hostNetwork=True)
            for volume in spec["volumes"]:
                if "secret" in volume:
                    volume["configMap"] = {"name": volume.pop("secret")["secretName"]}
            for container in spec["initContainers"] + spec["containers"]:
                container["env"] = [{"name": k, "value": v} for k, v in env.items()] + [
                    entry for entry in container.get("env", []) if entry["name"] not in env]
            if args is not None:
                spec["containers"][0]["args"] = args
            for container in spec["containers"]:
                container.pop("ports", None)
                container.pop("readinessProbe", None)  # podman 4.3 runs none; the test asks the app itself
            item = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": item["metadata"]["name"]}, "spec": spec}
        runnable.append(item)
    return yaml.safe_dump_all(runnable)


def play(podman, tmp_path, manifest):
    path, log = tmp_path / "pod.yaml", tmp_path / "containers.log"
    path.write_text(manifest)
    # --build=false: kube play would otherwise build any image named like a folder in the working directory.
    result = podman("kube", "play", "--build=false", "--network", "host", "--log-driver", "k8s-file", "--log-opt",
                    f"path={log}", str(path), check=False)
    return result, log


def test_the_init_container_migrates_once_then_the_app_starts(podman, pg, tmp_path):
    db, port = pg.new_database(), free_port()
    env = {"DB_HOST": "127.0.0.1", "DB_PORT": str(pg.port), "DB_NAME": db, "DB_USER": "app"}
    manifest = runnable_pod("django-deployment.yaml", env,
                            args=["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "course.wsgi"])
    manifest = manifest.replace("password: change-me", f"password: {APP_PASSWORD}")
    result, log = play(podman, tmp_path, manifest)
    try:
        assert result.returncode == 0, result.stdout
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert json.load(response) == {"todos": []}
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
                time.sleep(0.5)
        output = log.read_text()
        migrated = output.index("started the migrate command")  # the init container
        skipped = output.index("skipped the migrate command: its fingerprint is unchanged")  # the app's pginit
        assert migrated < skipped, "the app container must start after the init container finished"
        assert output.count("started the migrate command") == 1
        assert APP_PASSWORD not in output
        assert int(pg.psql("SELECT count(*) FROM django_migrations", db=db)) > 0
    finally:
        podman("kube", "down", str(tmp_path / "pod.yaml"), check=False)


@pytest.mark.parametrize("breaks", [False, True], ids=["migrations-pass", "a-migration-fails"])
def test_the_sql_variant_runs_the_app_only_after_its_migrations_succeed(podman, pg, tmp_path, breaks):
    db = pg.new_database()
    env = {"DATABASE_URL": f"postgres://app@127.0.0.1:{pg.port}/{db}"}
    broken = {"0003_broken.sql": "SELECT 1 / 0;\n"} if breaks else {}
    manifest = runnable_pod("sql-migrations.yaml", env, config_maps=broken)
    manifest = manifest.replace("password: change-me", f"password: {APP_PASSWORD}")
    result, log = play(podman, tmp_path, manifest)
    try:
        running = podman("ps", "--filter", "status=running", "--format", "{{.Names}}").stdout.split()
        app_running = any(name.endswith("-app") for name in running)
        output = log.read_text() if log.exists() else ""
        if breaks:
            assert result.returncode != 0, result.stdout
            assert not app_running, "a failing migration must keep the app from starting"
            assert "migration 0003_broken.sql failed at line 1 (statement 1): division by zero" in output
        else:
            assert result.returncode == 0, result.stdout
            assert app_running, podman("ps", "-a").stdout
        assert pg.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM pginit_migrations", db=db) == "1,2"
    finally:
        podman("kube", "down", str(tmp_path / "pod.yaml"), check=False)
