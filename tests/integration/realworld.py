"""Where the third-party corpora are: ../shared/realworld-sql (real schema dumps) and
../shared/realworld-migrations (other tools' real migration directories) beside the project, or
$PGINIT_REALWORLD_SQL and $PGINIT_REALWORLD_MIGRATIONS. They are read from there, never copied into
the tree. A clone on its own has neither: what needs them is then skipped, each test with one line
saying what is missing and why, and the rest of the file still runs (a module-level skip would leave
pytest with nothing collected, exit 5, and ctest with a failure)."""
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
REALWORLD_SQL = os.environ.get("PGINIT_REALWORLD_SQL", os.path.join(SHARED, "realworld-sql"))
REALWORLD_MIGRATIONS = os.environ.get("PGINIT_REALWORLD_MIGRATIONS", os.path.join(SHARED, "realworld-migrations"))


def _entries(directory, variable, wanted):
    """pytest parameters for the entries of `directory` that `wanted(name)` keeps; without the
    directory, one parameter that skips with the reason."""
    if not os.path.isdir(directory):
        reason = f"optional third-party data absent: no {directory} (set {variable} to its place)"
        return [pytest.param(None, id="absent", marks=pytest.mark.skip(reason=reason))]
    return sorted(name for name in os.listdir(directory) if wanted(name))


def realworld_dumps():
    """The dumps' file names, as test parameters (a skip naming the missing directory without them)."""
    return _entries(REALWORLD_SQL, "PGINIT_REALWORLD_SQL", lambda name: name.endswith(".sql"))


def realworld_migration_directories():
    """The tools' real directories (dbmate-measure, flyway-marquez, ...), as test parameters."""
    return _entries(REALWORLD_MIGRATIONS, "PGINIT_REALWORLD_MIGRATIONS",
                    lambda name: os.path.isdir(os.path.join(REALWORLD_MIGRATIONS, name)))
