// The deploy build: only the baked INT8 header and <statiq/statiq.hpp> (no float weights, no calibration,
// no allocation in inference). Classifies the test images and checks the predictions equal the host build's.
#include STATIQ_BAKED_HEADER

#include <statiq/statiq.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <span>
#include <vector>

#include "../common/fashion_mnist.hpp"

namespace baked = STATIQ_BAKED_NAMESPACE;

static_assert(statiq::arena_bytes_v<decltype(baked::model)> <= 64 * 1024, "the INT8 arena fits in 64 KiB");

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s test-images test-labels host-predictions\n", argv[0]);
    return 2;
  }
  try {
    const auto test = statiq_examples::load_fashion_mnist(argv[1], argv[2]);
    std::vector<std::uint8_t> host(test.count);
    std::ifstream p(argv[3], std::ios::binary);
    if (!p.read(reinterpret_cast<char*>(host.data()), static_cast<std::streamsize>(host.size()))) {
      std::fprintf(stderr, "deploy: %s: expected %zu bytes of predictions\n", argv[3], host.size());
      return 1;
    }
    static statiq::arena_for<decltype(baked::model)> arena;
    std::size_t same = 0, correct = 0;
    float logits[10];
    for (std::size_t i = 0; i < test.count; ++i) {
      statiq::run(baked::model, std::span<const float>(test.images.data() + i * 784, 784), std::span<float>(logits), arena);
      const auto k = static_cast<std::uint8_t>(std::max_element(logits, logits + 10) - logits);
      same += k == host[i];
      correct += k == test.labels[i];
    }
    std::printf("deploy (baked header only): arena %zu B, model data %zu B; accuracy %.2f %%; "
                "%zu of %zu predictions equal to the host build's\n",
                statiq::arena_bytes_v<decltype(baked::model)>, statiq::weight_bytes_v<decltype(baked::model)>,
                100.0 * static_cast<double>(correct) / static_cast<double>(test.count), same, test.count);
    return same == test.count ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deploy: %s\n", e.what());
    return 1;
  }
}
