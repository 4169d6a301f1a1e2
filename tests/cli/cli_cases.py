#!/usr/bin/env python3
"""End-to-end cases for the `labelgraph` command-line tool.

Usage: cli_cases.py LABELGRAPH_BINARY SOURCE_DIR WORK_DIR CASE
Each CASE runs the tool and checks exit code and output exactly; ctest runs
one process per case so a failure names the case.
"""
import json
import os
import shutil
import subprocess
import sys

BIN, SRC, WORK, CASE = sys.argv[1:5]
PETS = os.path.join(SRC, "examples", "graphs", "pets.json")
MALFORMED = os.path.join(SRC, "tests", "data", "malformed")


def run(*args, code=0):
    proc = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300)
    if proc.returncode != code:
        sys.exit(f"FAIL: {' '.join(args)} exited {proc.returncode}, expected {code}\n"
                 f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def expect_equal(actual, expected, what):
    if actual != expected:
        sys.exit(f"FAIL: {what}\nexpected:\n{expected!r}\nactual:\n{actual!r}")


def case_check_ok():
    out = run("check", PETS).stdout
    expect_equal(out, f"{PETS}: ok (34 nodes, 57 edges, 7 groups)\n", "check output")


def case_paths_british_shorthair():
    out = run("paths", PETS, "british-shorthair").stdout
    expect_equal(out,
                 "animal > cat > shorthair > british-shorthair\tdeterministic\n"
                 "animal > cat > solid > british-shorthair\tnondeterministic\n"
                 "animal > cat > tabby > british-shorthair\tnondeterministic\n"
                 "animal > cat > point > british-shorthair\tnondeterministic\n",
                 "paths of british-shorthair (paper, Figure 2)")


def case_paths_limits():
    err = run("paths", PETS, "british-shorthair", "--max-paths", "2", code=1).stderr
    if "british-shorthair" not in err or "max_paths" not in err:
        sys.exit(f"FAIL: max-paths error must name the node and the limit, got:\n{err}")


def case_paths_unknown_node():
    err = run("paths", PETS, "british-shorthare", code=1).stderr
    expect_equal(err, f"error: {PETS}: no node named 'british-shorthare' in the graph\n", "unknown node")


def case_stats_json():
    stats = json.loads(run("stats", PETS, "--json").stdout)
    expected = {"nodes": 34, "edges": 57, "groups": 7, "labels": 22, "augmented": 11, "max_depth": 3,
                "paths_total": 46, "paths_max": 4, "nondeterministic_labels": 4}
    for key, value in expected.items():
        expect_equal(stats.get(key), value, f"stats --json: {key}")


def case_stats_text():
    out = run("stats", PETS).stdout
    if "nondeterministic labels  4" not in out or "paths (all labels)       46" not in out:
        sys.exit(f"FAIL: stats text output:\n{out}")


def case_dot_png():
    if shutil.which("dot") is None:
        print("SKIPPED: Graphviz 'dot' is not installed")
        return
    out = os.path.join(WORK, "pets.png")
    if os.path.exists(out):
        os.remove(out)
    run("dot", PETS, "--highlight", "british-shorthair", "-o", out)
    with open(out, "rb") as png:
        expect_equal(png.read(8), b"\x89PNG\r\n\x1a\n", "PNG signature")


def case_dot_text():
    text = run("dot", PETS, "--groups", "colors").stdout
    if not text.startswith("digraph") or '"british-shorthair"' not in text:
        sys.exit(f"FAIL: dot text:\n{text[:400]}")


def case_usage_errors():
    run(code=2)
    run("paths", PETS, code=2)
    run("frobnicate", code=2)
    run("dot", PETS, "--groups", "stripes", code=2)


def case_missing_file():
    err = run("check", os.path.join(WORK, "no-such-graph.json"), code=1).stderr
    if "no-such-graph.json" not in err or "No such file" not in err:
        sys.exit(f"FAIL: missing file message:\n{err}")


def case_malformed_catalogue():
    """Every file of the malformed catalogue: exit 1, each expected text on stderr."""
    table = os.path.join(MALFORMED, "expected.txt")
    cases = 0
    for name, needles in read_expectations(table):
        err = run("check", os.path.join(MALFORMED, name), code=1).stderr
        for needle in needles:
            if needle not in err:
                sys.exit(f"FAIL: check {name}: expected {needle!r} in:\n{err}")
        if not all(line.startswith("error: ") for line in err.splitlines()):
            sys.exit(f"FAIL: check {name}: every stderr line must be one 'error: ' problem:\n{err}")
        cases += 1
    if cases < 20:
        sys.exit(f"FAIL: only {cases} malformed cases found in {table}")
    print(f"{cases} malformed graphs rejected with their expected messages")


def read_expectations(table):
    """See the header of tests/data/malformed/expected.txt for the format."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("expectations", os.path.join(SRC, "tests", "data", "malformed", "expectations.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read(table)


def case_import_wordnet():
    wordnet = "/usr/share/wordnet"
    if not os.path.exists(os.path.join(wordnet, "data.noun")):
        print("SKIPPED: wordnet-base is not installed")
        return
    out = os.path.join(WORK, "wordnet-nouns.json")
    run("import-wordnet", wordnet, "-o", out)
    stats = json.loads(run("stats", out, "--json").stdout)
    expect_equal(stats["nodes"], 82115, "WordNet 3.0 noun synsets")
    expect_equal(stats["labels"], 82114, "every synset but the root entity.n.00001740 is a label")
    paths = run("paths", out, "entity.n.00001740").stdout
    expect_equal(paths, "entity.n.00001740\tdeterministic\n", "the root's only path")


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if CASE == "--list":
        print("\n".join(CASES))
    else:
        os.makedirs(WORK, exist_ok=True)
        CASES[CASE]()
