"""The Dockerfiles pass npm's dockerfilelint and dockerfile-utils, and the Kubernetes and compose
examples pass yamllint and the Kubernetes schema (npm's kubernetes-models). No engine needed."""
import glob
import os
import re
import subprocess

import pytest

from harness import CACHE, ROOT

DOCKERFILES = ["Dockerfile.debian", "Dockerfile.alpine", "examples/django/Dockerfile",
               "tests/containers/postgres-standin/Dockerfile"]
NPM = os.path.join(CACHE, "npm", "node_modules")
KUBERNETES = sorted(glob.glob(os.path.join(ROOT, "examples", "kubernetes", "*.yaml")))


def npm_tool(name):
    return os.path.join(NPM, ".bin", name)


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfilelint_finds_nothing(dockerfile):
    result = subprocess.run([npm_tool("dockerfilelint"), "-c", ROOT, dockerfile], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    assert result.returncode == 0, result.stdout  # its exit code is the number of findings


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_utils_lint_finds_nothing(dockerfile):
    result = subprocess.run([npm_tool("dockerfile-utils"), "lint", dockerfile], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert result.returncode == 0 and "rror" not in result.stdout, result.stdout


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_every_base_image_has_a_tag_that_is_not_latest(dockerfile):
    """dockerfilelint's own tag rule is off (.dockerfilelintrc): it misreads named scratch stages."""
    text = open(os.path.join(ROOT, dockerfile)).read()
    defaults = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    stages = set()
    for image, stage in re.findall(r"^FROM (?:--platform=\S+ )?(\S+)(?: AS (\S+))?", text, re.M):
        image = re.sub(r"\$\{(\w+)\}", lambda match: defaults.get(match.group(1), ""), image)
        if image != "scratch" and image not in stages:
            assert ":" in image and not image.endswith(":latest"), f"{dockerfile}: FROM {image}"
        stages.add(stage)


def test_yamllint_is_clean():
    files = KUBERNETES + [os.path.join(ROOT, "compose-example.yml")]
    result = subprocess.run(["yamllint", "-s", *files], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert result.returncode == 0, result.stdout


def test_the_kubernetes_examples_match_the_kubernetes_schema():
    result = subprocess.run(["node", os.path.join(os.path.dirname(__file__), "validate_kubernetes.cjs"), *KUBERNETES],
                            env=dict(os.environ, NODE_PATH=NPM), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count(": valid") == 5  # 2 Deployments, 2 Secrets, 1 ConfigMap
