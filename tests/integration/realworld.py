"""Where the real-world schema dumps are: ../shared/realworld-sql beside the project (third-party files
are read from there, never copied into the tree), or $PGINIT_REALWORLD_SQL. Without them, what needs
them is skipped with one line saying why."""
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REALWORLD_SQL = os.environ.get("PGINIT_REALWORLD_SQL", os.path.join(os.path.dirname(ROOT), "shared", "realworld-sql"))


def realworld_dumps():
    """The dumps' file names, or a module-level skip naming the missing directory."""
    if not os.path.isdir(REALWORLD_SQL):
        pytest.skip(f"no real-world SQL dumps at {REALWORLD_SQL} (set PGINIT_REALWORLD_SQL)", allow_module_level=True)
    return sorted(name for name in os.listdir(REALWORLD_SQL) if name.endswith(".sql"))
