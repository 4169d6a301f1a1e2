#!/bin/sh
# A stand-in for a Google Benchmark binary, for the tests of
# bench/smoke.cmake: prints what $LABELGRAPH_FAKE_BENCH asks for.
case "$LABELGRAPH_FAKE_BENCH" in
  ok)       echo '{"context": {}, "benchmarks": [{"name": "fake/one", "real_time": 1.0}]}' ;;
  error)    echo '{"context": {}, "benchmarks": [{"name": "fake/one", "real_time": 1.0},
                    {"name": "fake/two", "error_occurred": true, "error_message": "shape mismatch"}]}' ;;
  no_match) echo '{"context": {}, "benchmarks": []}' ;;
  not_json) echo 'Segmentation fault?' ;;
  crash)    echo 'terminate called after throwing an instance of std::bad_alloc' >&2; exit 134 ;;
  *)        echo "fake_benchmark.sh: unknown LABELGRAPH_FAKE_BENCH '$LABELGRAPH_FAKE_BENCH'" >&2; exit 2 ;;
esac
