"""Fixtures of the container tests: one dockerd for the whole session, the base images and
stand-ins (harness.py), pginit's images built from this tree, and a Postgres on 127.0.0.1."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import (ROOT, Engine, prepare_base_images, readme_build_commands, start_debian_tarball,  # noqa: E402
                     with_host_network)
from pgserver import running_server  # noqa: E402


@pytest.fixture(scope="session")
def engine(request):
    if any(item.module.__name__ == "test_multiarch" for item in request.session.items):
        # The arm64 base image (2 min: downloads, then dpkg under qemu) is built while Docker builds.
        start_debian_tarball("arm64")
    started = Engine()
    try:
        prepare_base_images(started)
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def classic_builds(engine):
    """{README's tag: image id}: README's own `docker build` lines (pginit, pginit:binary, pginit:alpine),
    run as written (with host networking, the only one here) by Docker's classic builder, docker.io
    20.10's default; test_builders.py runs them with BuildKit too, and podman's in test_multiarch.py."""
    built = {}
    for command in readme_build_commands("docker"):
        engine.docker(*with_host_network(command)[1:], cwd=ROOT, env_update={"DOCKER_BUILDKIT": "0"})
        tag = command[command.index("-t") + 1]
        built[tag] = engine.docker("image", "inspect", "-f", "{{.Id}}", tag).stdout.strip()
    assert set(built) == {"pginit", "pginit:binary", "pginit:alpine"}, f"README's docker build lines: {built}"
    return built


@pytest.fixture(scope="session")
def images(engine, classic_builds):
    """pginit:debian (the default image), pginit:binary (the scratch stage), pginit:alpine: the classic
    builder's, under names of their own (a BuildKit build of README's lines takes README's tags)."""
    names = {"debian": ("pginit:debian", "pginit"), "binary": ("pginit:binary-classic", "pginit:binary"),
             "alpine": ("pginit:alpine-classic", "pginit:alpine")}
    for name, tag in names.values():
        engine.docker("tag", classic_builds[tag], name)
    return {flavour: name for flavour, (name, _) in names.items()}


@pytest.fixture(scope="session")
def django_image(engine, images):
    """The course's app (examples/django), with pginit copied from the binary stage."""
    engine.docker("build", "--network", "host", "--build-arg", "PGINIT_IMAGE=pginit:binary", "-t",
                  "pginit-django-example", os.path.join(ROOT, "examples", "django"))
    return "pginit-django-example"


@pytest.fixture(scope="session")
def pg():
    with running_server() as server:
        yield server
