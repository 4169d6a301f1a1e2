"""Reads tests/data/malformed/expected.txt (its header documents the format).

read(path) -> list of (file_name, [needle, ...]) in the order of first
appearance; every needle must occur in the error reported for that file.
"""


def read(path):
    cases = {}
    with open(path, encoding="utf-8") as table:
        for number, line in enumerate(table, start=1):
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            name, tab, needle = line.partition("\t")
            if not tab or not name or not needle:
                raise ValueError(f"{path}:{number}: expected FILE<TAB>NEEDLE, got {line!r}")
            cases.setdefault(name, []).append(needle)
    return list(cases.items())


if __name__ == "__main__":
    import os
    import sys

    table = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "expected.txt")
    for name, needles in read(table):
        print(f"{name}: {len(needles)} expected text(s)")
