#!/usr/bin/env python3
"""Independent reference for the WordNet noun DAG, built with networkx.

Reads WordNet 3.0's data.noun with Python's own string functions (no code
shared with the C++ reader), builds the hypernym DAG (`@` and `@i` pointers,
edge hypernym -> synset) and prints, one fact per line:

    nodes <n>
    edges <m>
    paths_total <sum over every synset, the root included, of |paths(v)|>
    count <node name> <|paths(v)|>                 (one line per synset)
    sample <node name> <|paths(v)|>                (SAMPLE_SIZE synsets)
    path <deterministic|nondeterministic> <root name> ... <node name>

Path counts come from `nx.all_simple_paths` on the reversed graph, from each
synset to the root (no dynamic programming), and the determinism of a sampled
path from the literal Def. 3.2/3.3: a path P of v is nondeterministic iff some
other path P' of v holds a node w that competes with a node u of P, where two
distinct synsets compete iff they have the same set of hypernyms (the sibling
rule). Exits with 77 (ctest's skip code) when networkx cannot be imported.

usage: networkx_reference.py WORDNET_DIR [SAMPLE_SIZE] [SEED]
"""

import os
import random
import sys

try:
    import networkx as nx
except ImportError as error:  # pragma: no cover - depends on the machine
    print(f"SKIPPED: networkx is not importable by {sys.executable}: {error}", flush=True)
    sys.exit(77)


def read_noun_dag(path):
    """(graph, names, parent sets): graph edges run hypernym -> synset."""
    graph = nx.DiGraph()
    names = {}
    with open(path, encoding="ascii") as data:
        for line in data:
            if line.startswith("  "):
                continue  # license header
            fields = line.split("|", 1)[0].split()
            offset = fields[0]
            word_count = int(fields[3], 16)
            names[offset] = f"{fields[4]}.n.{offset}"
            graph.add_node(offset)
            at = 4 + 2 * word_count
            pointer_count = int(fields[at])
            at += 1
            for _ in range(pointer_count):
                symbol, target = fields[at], fields[at + 1]
                at += 4
                if symbol in ("@", "@i"):
                    graph.add_edge(target, offset)
    parents = {node: frozenset(graph.predecessors(node)) for node in graph.nodes}
    return graph, names, parents


def paths_to_root(reversed_graph, node, root):
    """Every root-to-node path (root first), by networkx's simple-path search."""
    if node == root:
        return [[root]]
    return [path[::-1] for path in nx.all_simple_paths(reversed_graph, node, root)]


def competes(parents, u, w):
    return u != w and parents[u] == parents[w]


def is_deterministic(path, all_paths, parents):
    """Def. 3.3, literally: no node of another path competes with a node of `path`."""
    for other in all_paths:
        if other is path:
            continue
        for w in other:
            for u in path:
                if competes(parents, u, w):
                    return False
    return True


def main():
    wordnet_dir = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/wordnet"
    sample_size = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2106
    data_noun = wordnet_dir if os.path.isfile(wordnet_dir) else os.path.join(wordnet_dir, "data.noun")

    graph, names, parents = read_noun_dag(data_noun)
    roots = [node for node in graph.nodes if graph.in_degree(node) == 0]
    if len(roots) != 1:
        sys.exit(f"expected one synset without hypernyms, found {len(roots)}")
    root = roots[0]
    reversed_graph = graph.reverse(copy=False)

    counts = {node: sum(1 for _ in nx.all_simple_paths(reversed_graph, node, root)) if node != root else 1
              for node in graph.nodes}

    out = sys.stdout
    out.write(f"nodes {graph.number_of_nodes()}\n")
    out.write(f"edges {graph.number_of_edges()}\n")
    out.write(f"paths_total {sum(counts.values())}\n")
    for node in graph.nodes:
        out.write(f"count {names[node]} {counts[node]}\n")

    # The synsets with the most paths, the root, a seeded draw among the other
    # synsets with several paths, then a seeded draw from the rest.
    rng = random.Random(seed)
    by_paths = sorted(graph.nodes, key=lambda node: (-counts[node], node))
    sample = by_paths[: sample_size // 10] + [root]
    chosen = set(sample)
    several = sorted(node for node in graph.nodes if counts[node] > 1 and node not in chosen)
    sample += rng.sample(several, min(len(several), sample_size // 5))
    chosen = set(sample)
    rest = sorted(node for node in graph.nodes if node not in chosen)
    sample += rng.sample(rest, max(0, sample_size - len(sample)))
    for node in sample:
        all_paths = paths_to_root(reversed_graph, node, root)
        out.write(f"sample {names[node]} {len(all_paths)}\n")
        for path in all_paths:
            kind = "deterministic" if is_deterministic(path, all_paths, parents) else "nondeterministic"
            out.write(f"path {kind} {' '.join(names[n] for n in path)}\n")


if __name__ == "__main__":
    main()
