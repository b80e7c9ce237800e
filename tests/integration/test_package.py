"""The .deb (issue 18): lintian passes it with no error and no warning (the one override says why),
and its man page is the one the tables in the code make, rendered without a complaint."""
import gzip
import os
import subprocess

import pytest

from conftest import PGINIT
from elf import architecture, is_static_executable

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
pytestmark = pytest.mark.skipif(not is_static_executable(PGINIT), reason="packages the static build only")


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    result = subprocess.run([os.path.join(ROOT, "scripts", "package-deb"), architecture(PGINIT), str(out)],
                            capture_output=True, text=True, env=dict(os.environ, PGINIT_PACKAGE_BINARY=PGINIT), check=True)
    return result.stdout.strip().splitlines()[-1]


def test_the_package_is_for_the_binarys_architecture(package, tmp_path):
    """scripts/package-deb ARCH: pginit_<version>_<ARCH>.deb, and the binary in it is for ARCH."""
    arch = architecture(PGINIT)
    assert os.path.basename(package).endswith(f"_{arch}.deb")
    field = subprocess.run(["dpkg-deb", "-f", package, "Architecture"], capture_output=True, text=True, check=True)
    assert field.stdout.strip() == arch
    subprocess.run(["dpkg-deb", "-x", package, str(tmp_path)], check=True)
    assert architecture(str(tmp_path / "usr/bin/pginit")) == arch


def test_lintian_finds_no_error_and_no_warning(package):
    result = subprocess.run(["lintian", "--tag-display-limit", "0", "--pedantic", "-I", package], capture_output=True,
                            text=True)
    tags = [line for line in result.stdout.splitlines() if line[:2] in ("E:", "W:", "I:", "P:")]
    assert result.returncode == 0, result.stdout + result.stderr
    assert tags == []
    print(f"lintian --pedantic -I {os.path.basename(package)}: no tags; overridden: "
          + subprocess.run(["lintian", "--show-overrides", package], capture_output=True, text=True).stdout.strip())


def test_the_man_page_is_the_generated_one_and_renders_cleanly(package, tmp_path):
    subprocess.run(["dpkg-deb", "-x", package, str(tmp_path)], check=True)
    with gzip.open(tmp_path / "usr/share/man/man1/pginit.1.gz", "rt") as f:
        page = f.read()
    assert page == open(os.path.join(ROOT, "docs", "pginit.1")).read()
    rendered = subprocess.run(["man", "--warnings", "-l", "-P", "cat", str(tmp_path / "usr/share/man/man1/pginit.1.gz")],
                              capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80"))
    assert rendered.returncode == 0
    assert rendered.stderr == ""
    assert "pginit - wait for Postgres" in rendered.stdout
    assert "--user USER[:GROUP]" in rendered.stdout
    assert "EXIT STATUS" in rendered.stdout
