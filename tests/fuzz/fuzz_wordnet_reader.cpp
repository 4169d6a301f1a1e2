// Fuzz harness: the WordNet noun reader (read_wordnet over a data.noun file,
// and the line parser alone). The input is written to a private temporary
// file, because the reader reads files. Any input must build a graph or throw
// labelgraph::error; a graph that builds must satisfy the graph invariants and
// have one node per synset line.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "labelgraph/graph/wordnet.hpp"

namespace {

/// One temporary file per process, removed at exit.
struct scratch_file {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("labelgraph-fuzz-" + std::to_string(::getpid()) + ".data.noun");
  ~scratch_file() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace labelgraph;
  static const scratch_file file;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // The line parser alone, on every line: it must not read out of bounds.
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    wordnet_synset synset;
    std::string why;
    if (!detail::parse_wordnet_line(text.substr(start, end - start), synset, why)) {
      fuzz::require(!why.empty(), "a rejected line says why");
    }
    start = end + 1;
  }

  {
    std::ofstream out(file.path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  try {
    const label_graph graph = read_wordnet(file.path);
    fuzz::check_graph_invariants(graph);
    fuzz::require(graph.dataset_count() == 1, "a WordNet graph has the one dataset wordnet-nouns");
  } catch (const error&) {
    // refused with a message
  }
  return 0;
}
