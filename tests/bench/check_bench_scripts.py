#!/usr/bin/python3
"""The benchmark scripts keep each cell's fastest round.

Usage: check_bench_scripts.py kernels|losses SCRIPT

Writes two rounds of fake Google Benchmark reports in which the copy, the
kernel and the compared figure (libtorch's variant, or sequence_nll) are each
fastest in a different round, runs SCRIPT on them with --from-json, and checks
every number of one table row: it must come from exactly those fastest
figures."""
import json
import os
import subprocess
import sys
import tempfile

BYTES_MOVED = 8e6  # per iteration; GB/s = BYTES_MOVED / time


def report(cells):
    """A Google Benchmark JSON report of `cells`: {name: milliseconds}."""
    return {"context": {"date": "fake"},
            "benchmarks": [{"name": f"{name}/real_time", "run_name": f"{name}/real_time", "run_type": "iteration",
                            "real_time": ms, "time_unit": "ms", "bytes_per_second": BYTES_MOVED / (ms * 1e-3)}
                           for name, ms in cells.items()]}


def write_files(directory, files):
    """Writes `files` ({name: report or text}) into `directory`; their paths."""
    written = []
    for name, content in files.items():
        written.append(os.path.join(directory, name))
        with open(written[-1], "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
    return written


def kernels_case(script, directory):
    """bench-kernels: each binary's rounds passed as files, mix1k block_softmax on 1 thread."""
    copy, cpu = "copy/stream/threads:1/mix1k", "block_softmax/cpu/threads:1/mix1k"
    narrow, padded = "block_softmax/torch_narrow/threads:1/mix1k", "block_softmax/torch_padded/threads:1/mix1k"
    files = {"ours-1.json": report({copy: 1.0, cpu: 4.0}), "torch-1.json": report({narrow: 20.0}),
             "ours-2.json": report({copy: 3.0, cpu: 2.0}), "torch-2.json": report({narrow: 30.0, padded: 25.0})}
    # shape, op, copy GB/s, reference, cpu, xtensor, cpu % of copy, fastest libtorch, speed-up, xtensor / cpu
    expected = {2: "8.00", 4: "4.00", 6: "50%", 7: "narrow 20.000 ms", 8: "10.0x"}
    command = [sys.executable, script, "--out-dir", directory, "--from-json", *write_files(directory, files)]
    return command, "kernels.md", "| mix1k | block_softmax |", expected, None


def losses_case(script, directory):
    """bench-losses: loss-roundK.json in the out directory, mix1k mean/block on 1 thread."""
    copy, kernel = "copy/stream/threads:1/mix1k", "block_nll_fwd_bwd/block/threads:1/mix1k"
    loss = "sequence_nll/mean/block/threads:1/mix1k"
    files = {"loss-round1.json": report({copy: 1.0, kernel: 4.0, loss: 5.0}),
             "loss-round2.json": report({copy: 3.0, kernel: 2.0, loss: 2.5})}
    # threads, shape, copy ms, copy GB/s, kernel ms (% of copy), pooling, normalization, ms, GB/s, % of copy, / kernel
    expected = {2: "1.000", 4: "2.000 (50%)", 7: "2.500", 9: "40%", 10: "1.25"}
    write_files(directory, {**files, "machine.txt": "fake machine\n"})
    command = ["bash", script, "--out-dir", directory, "--from-json"]
    return command, "losses.md", "| 1 | mix1k |", expected, "the fastest of 2 rounds"


def main():
    kind, script = sys.argv[1:]
    case = {"kernels": kernels_case, "losses": losses_case}[kind]
    with tempfile.TemporaryDirectory() as directory:
        command, table_name, row_start, expected, must_say = case(script, directory)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(directory, table_name)) as f:
            table = f.read()

    row = next((line for line in table.splitlines() if line.startswith(row_start)), None)
    cells = [cell.strip() for cell in row.strip("|").split("|")] if row else []
    wrong = {k: (cells[k] if k < len(cells) else None, v) for k, v in expected.items() if k >= len(cells) or cells[k] != v}
    if wrong:
        sys.exit(f"check_bench_scripts {kind}: the row is {row!r}; (got, expected) by column: {wrong}")
    if must_say and must_say not in table:
        sys.exit(f"check_bench_scripts {kind}: the table does not say '{must_say}'")
    print(f"check_bench_scripts {kind}: each cell is the fastest of its rounds")


if __name__ == "__main__":
    main()
