"""Multi-arch images from the one Dockerfile.debian and Dockerfile.alpine (issue 17), built as
`docker buildx build --platform linux/amd64,linux/arm64` builds them: the build stage runs on the build
platform and cross-compiles for TARGETARCH (no compiler under emulation), the final stage is the
target's base image. Here podman 4.3 (buildah) does the build into a manifest list, and the arm64
image runs under qemu-user (binfmt_misc) against the test's Postgres: PID 1, migrations, and `podman
stop` returning the app's own exit code.

Base images (no registry here): the debootstrap stand-ins of harness.py for amd64 and arm64, made
manifest lists under the official names, so that `FROM --platform=$TARGETPLATFORM debian:bookworm-slim`
finds the target's image as it would on Docker Hub."""
import json
import time
import uuid

import pytest

from harness import (HOST, ROOT, Podman, alpine_standin_tarball, debian_tarball, ensure_emulation, readme_build_commands,
                     with_host_network)
from pgserver import APP_PASSWORD
from test_images import CHILD, mounted_migrations, wait_for_log

PLATFORMS = [HOST, "arm64"]
IMAGES = {"debian": ("Dockerfile.debian", "localhost/pginit:multiarch"),
          "alpine": ("Dockerfile.alpine", "localhost/pginit:multiarch-alpine")}


def base_images(podman, tmp_path):
    """debian:bookworm for the build platform; debian:bookworm-slim and alpine:3.20 as amd64 + arm64 lists."""
    podman("import", "--arch", HOST, "--change", 'CMD ["bash"]', debian_tarball(HOST), "docker.io/library/debian:bookworm")
    lists = {"docker.io/library/debian:bookworm-slim": lambda arch: debian_tarball(arch),
             "docker.io/library/alpine:3.20": lambda arch: alpine_standin_tarball(arch, str(tmp_path / f"alpine-{arch}.tar"))}
    for name, tarball in lists.items():
        podman("manifest", "create", name)
        for arch in PLATFORMS:
            single = f"localhost/base-{arch}/{name.rsplit('/', 1)[1]}"
            podman("import", "--arch", arch, "--os", "linux", tarball(arch), single)
            podman("manifest", "add", name, f"containers-storage:{single}")


def readme_multi_platform_build(dockerfile, manifest):
    """README's multi-platform podman line as written, for this machine's platform and arm64 (README
    names amd64, the build machine it assumes), `dockerfile` and `manifest`, with the flags this
    machine needs (no registry, host network only)."""
    [command] = readme_build_commands("podman", multi_platform=True)
    words = " ".join(command).replace("linux/amd64", f"linux/{HOST}").split()
    words[words.index("--manifest") + 1] = manifest
    words[words.index("-f") + 1] = dockerfile
    assert words[-1] == "."
    return with_host_network(words[:-1] + ["--pull=never", ROOT])


@pytest.fixture(scope="module")
def multiarch(engine, tmp_path_factory):
    for arch in PLATFORMS:
        ensure_emulation(arch)  # the images run under qemu-user
    podman = Podman(engine.storage_driver)
    try:
        base_images(podman, tmp_path_factory.mktemp("bases"))
        for dockerfile, name in IMAGES.values():
            started = time.monotonic()
            podman(*readme_multi_platform_build(dockerfile, name)[1:], timeout=3600)
            print(f"\npodman build --platform {','.join(PLATFORMS)} -f {dockerfile}: {time.monotonic() - started:.0f} s")
        yield podman
    finally:
        podman.close()


@pytest.mark.parametrize("flavour", sorted(IMAGES))
def test_one_build_gives_a_manifest_list_with_every_platform(multiarch, flavour):
    manifest = json.loads(multiarch("manifest", "inspect", IMAGES[flavour][1]).stdout)
    platforms = sorted(entry["platform"]["architecture"] for entry in manifest["manifests"])
    assert platforms == sorted(PLATFORMS)
    for arch in PLATFORMS:
        version = multiarch("run", "--rm", "--platform", f"linux/{arch}", "--network", "host", IMAGES[flavour][1],
                            "--version").stdout
        assert f"({arch}, libpq" in version, version


def test_the_arm64_image_runs_under_emulation_waits_migrates_and_stops_with_the_apps_code(multiarch, pg, tmp_path):
    db = pg.new_database()
    migrations = mounted_migrations(tmp_path, "from_arm64")
    name = f"pginit-arm64-{uuid.uuid4().hex[:8]}"
    child = 'echo "machine=$(uname -m)"; ' + CHILD
    multiarch("run", "-d", "--name", name, "--platform", "linux/arm64", "--network", "host",
              "-v", f"{migrations}:/migrations:ro", IMAGES["debian"][1], "--dsn", pg.dsn(db=db),
              "--migrations", "/migrations", "--", "sh", "-c", child)
    try:
        # pginit's own log names the command, which holds "child pid=" too: wait for the child's line.
        logs = wait_for_log(multiarch, name, r"child pid=\d+", timeout=120)
        assert "machine=aarch64" in logs, logs
        assert "ppid=1 " in logs and "uid=65534" in logs, logs
        assert "applied migration 0001_from_arm64.sql" in logs
        assert APP_PASSWORD not in logs
        multiarch("stop", "-t", "10", name)
        assert multiarch("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip() == "7"
        assert "got SIGTERM" in multiarch("logs", name).stdout
    finally:
        multiarch("rm", "-f", name, check=False)
    assert pg.psql("SELECT to_regclass('from_arm64') IS NOT NULL", db=db) == "t"


def test_readme_podman_build_line_works_as_written(multiarch):
    """README's single-platform `podman build` line (podman 4.3 shows FROM no platform argument
    there); it reuses the layers of the multi-arch build above."""
    commands = readme_build_commands("podman")
    assert commands, "README shows no podman build line"
    for command in commands:
        tag = command[command.index("-t") + 1]
        built = multiarch(*with_host_network(command)[1:], check=False, timeout=3600)
        assert built.returncode == 0, f"{' '.join(command)}:\n{built.stdout[-3000:]}"
        version = multiarch("run", "--rm", "--network", "host", tag, "--version").stdout
        assert f"({HOST}, libpq" in version, version
