"""Fixtures of the container tests: one dockerd for the whole session, the base images and
stand-ins (harness.py), pginit's images built from this tree, and a Postgres on 127.0.0.1."""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import HOST, ROOT, Engine, prepare_base_images, start_debian_tarball  # noqa: E402
from pgserver import running_server  # noqa: E402

# The host's libpq version: the image's build stage then finds its static libpq and OpenSSL in the
# .cache/ of the build context instead of building them again (a user's clean clone builds them).
LIBPQ_VERSION = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libpq-dev"], stdout=subprocess.PIPE,
                               text=True).stdout.strip()


# Docker 20.10's classic builder sets none of the platform arguments that BuildKit and podman set.
CLASSIC_PLATFORM = ["--build-arg", f"BUILDPLATFORM=linux/{HOST}", "--build-arg", f"TARGETPLATFORM=linux/{HOST}",
                    "--build-arg", f"TARGETARCH={HOST}"]


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
def images(engine):
    """pginit:debian (the default image), pginit:binary (the scratch stage), pginit:alpine."""
    build = ["build", "--network", "host", "--build-arg", f"PGINIT_LIBPQ_VERSION={LIBPQ_VERSION}", *CLASSIC_PLATFORM]
    engine.docker(*build, "-f", "Dockerfile.debian", "-t", "pginit:debian", ROOT, cwd=ROOT)
    engine.docker(*build, "-f", "Dockerfile.debian", "--target", "binary", "-t", "pginit:binary", ROOT, cwd=ROOT)
    engine.docker(*build, "-f", "Dockerfile.alpine", "-t", "pginit:alpine", ROOT, cwd=ROOT)
    return {"debian": "pginit:debian", "binary": "pginit:binary", "alpine": "pginit:alpine"}


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
