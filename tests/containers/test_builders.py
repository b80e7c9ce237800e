"""README's image commands as written work with every builder Debian 12 ships (issue 24): Docker's
classic builder (the `images` fixture builds with it), Docker with BuildKit, and podman 4.3 (in
test_multiarch.py, beside the multi-arch build whose layers it reuses). The
classic builder sets none of the platform arguments, and podman without --platform none that FROM can
see; a Dockerfile that needed them stopped at `FROM --platform=$BUILDPLATFORM` ("" is an invalid component)."""
from harness import HOST, ROOT, readme_build_commands, with_host_network

EXPECTED_TAGS = {"pginit", "pginit:binary", "pginit:alpine"}


def tag_of(command):
    return command[command.index("-t") + 1]


def assert_runs_with_its_architecture(run, image):
    """The image's pginit answers --version naming this machine's architecture (the binary stage has
    no entrypoint: it is named)."""
    version = run("run", "--rm", "--entrypoint", "/usr/local/bin/pginit", image, "--version").stdout
    assert f"({HOST}, libpq" in version and "static)" in version, f"{image}: {version}"


def test_the_readme_has_a_build_line_for_each_image_and_for_podman():
    assert {tag_of(command) for command in readme_build_commands("docker")} == EXPECTED_TAGS
    assert [tag_of(command) for command in readme_build_commands("podman")] == ["pginit"]


def test_the_classic_builders_images_run(engine, classic_builds):
    """README's lines, built with DOCKER_BUILDKIT=0 as written (by image id: the BuildKit test below
    builds the same tags)."""
    for image_id in classic_builds.values():
        assert_runs_with_its_architecture(engine.docker, image_id)


def test_readme_docker_build_lines_work_with_buildkit(engine, classic_builds):
    for command in readme_build_commands("docker"):
        built = engine.docker(*with_host_network(command)[1:], cwd=ROOT, env_update={"DOCKER_BUILDKIT": "1"},
                              check=False)
        assert built.returncode == 0, f"{' '.join(command)} with BuildKit:\n{built.stdout[-3000:]}"
        assert_runs_with_its_architecture(engine.docker, tag_of(command))
