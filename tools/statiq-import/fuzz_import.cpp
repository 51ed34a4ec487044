// libFuzzer target over statiq-import's parse + convert entry point: any input must either import or be
// rejected with an import_error, never crash, leak or throw anything else.
#include <cstddef>
#include <cstdint>

#include "importer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  statiq_import::options opt;
  opt.name = "fuzz";
  try {
    (void)statiq_import::import_model(data, size, opt);
  } catch (const statiq_import::import_error&) {
  }
  return 0;
}
