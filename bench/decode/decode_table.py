#!/usr/bin/env python3
"""Turns decode_bench's JSON into the markdown table of docs/performance.md.

    decode_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
                 --benchmark_out=decode.json --benchmark_out_format=json
    python3 bench/decode/decode_table.py decode.json

One row per (benchmark, graph, shape), one column per backend configuration:
paths per second of CPU time (medians when the run has repetitions), and the
ratio of each configuration to the reference backend in the same run.
"""
import json
import sys
from collections import OrderedDict


def main(path):
    with open(path) as handle:
        data = json.load(handle)
    runs = [b for b in data["benchmarks"] if b.get("aggregate_name", "median") == "median"]
    table = OrderedDict()
    configs = []
    for run in runs:
        parts = run["run_name"].split("/")
        shape = "/".join(parts[:-2])          # e.g. sample_paths/pets/inputs:256/K:4
        config = "/".join(parts[-2:])         # e.g. cpu/threads:2
        if config not in configs:
            configs.append(config)
        table.setdefault(shape, {})[config] = run["paths_per_second"]
    context = data["context"]
    print(f"Machine: {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz, {context.get('date')}; "
          "paths per second of CPU time (ratio to `reference/threads:1`).\n")
    print("| benchmark | " + " | ".join(configs) + " |")
    print("|---|" + "---|" * len(configs))
    for shape, values in table.items():
        base = values.get("reference/threads:1")
        cells = []
        for config in configs:
            value = values.get(config)
            if value is None:
                cells.append("")
            elif base:
                cells.append(f"{value / 1e3:,.0f} k ({value / base:.2f}x)")
            else:
                cells.append(f"{value / 1e3:,.0f} k")
        print(f"| {shape} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: decode_table.py DECODE_BENCH.json")
    main(sys.argv[1])
