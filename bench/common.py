"""Helpers for the benchmark scripts: paths, the throwaway server, and printing tables."""
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from pgserver import PgServer, SUPERUSER_PASSWORD, free_port  # noqa: E402,F401

PGINIT = os.environ.get("PGINIT_BIN", os.path.join(HERE, "..", "build", "pginit"))


def median_ms(samples):
    return statistics.median(samples) * 1000


def print_table(title, header, rows):
    print(f"\n{title}\n")
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
