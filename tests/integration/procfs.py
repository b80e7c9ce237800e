"""Reading /proc: a process's status fields and its children."""


def proc_status(pid):
    """The fields of /proc/PID/status as a dict of strings; FileNotFoundError or ProcessLookupError
    once it is gone."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []
