// The static memory plan: buffer reuse, aliasing, fusion, and an arena equal to the live-tensor bound.
#include <doctest/doctest.h>

#include <statiq/statiq.hpp>

namespace {
using namespace statiq;

// A residual block: the skip tensor (node 2) stays live across two convolutions.
using residual = Graph<Input<Shape<16, 16, 8>>,                  // 0: caller's buffer (channels-last)
                       Conv2d<8, Kernel<3>, Pads<1>>, Relu,      // 1, 2: relu fused into conv 1
                       Conv2d<8, Kernel<3>, Pads<1>>, Relu,      // 3, 4
                       Conv2d<8, Kernel<3>, Pads<1>>,            // 5
                       At<Add, 5, 2>, Relu,                      // 6, 7: relu in place over the sum
                       Conv2d<16, Kernel<3>, Stride<2>, Pads<1>>, // 8: 8x8x16
                       GlobalAvgPool, Flatten, Dense<10>>;       // 9, 10 (alias), 11 -> caller's output
constexpr auto rp = plan_v<residual>;
constexpr std::size_t t16 = 16 * 16 * 8 * sizeof(float);  // 8192 bytes, a multiple of 64

// The arena is a compile-time constant, usable against a budget.
static_assert(arena_bytes_v<residual> <= 64 * 1024);
static_assert(arena_fits<residual, 64 * 1024>());

}  // namespace

TEST_CASE("residual graph: the arena equals the largest set of simultaneously live tensors") {
  CHECK(rp.arena_bytes == rp.live_bound);
  // Three 16x16x8 tensors are live at once while node 5 runs: the skip (2), node 3/4's output and node 5's.
  CHECK(rp.live_bound == 3 * t16);
  CHECK(rp.arena_bytes < rp.naive_bytes);
  MESSAGE("residual plan: arena " << rp.arena_bytes << " B, live bound " << rp.live_bound
                                  << " B, one buffer per layer " << rp.naive_bytes << " B");
}

TEST_CASE("residual graph: fusion, aliasing and in-place reuse are what the plan says") {
  CHECK(rp.fused[2]);                // Relu after conv 1: folded into its clamp
  CHECK(rp.fused[4]);
  CHECK(rp.fused_clamp[1] == 2);
  CHECK(!rp.fused[7]);               // Relu after Add: not a conv/dense output
  CHECK(rp.storage[7] == 6);         // ... so it runs in place over the sum
  CHECK(rp.storage[10] == rp.storage[9]);  // Flatten aliases
  CHECK(rp.kind[0] == detail::storage_kind::caller_input);
  CHECK(rp.kind[11] == detail::storage_kind::caller_output);
  CHECK(!rp.copy_out);
  // The skip tensor lives from node 1 (conv + fused relu) to node 6 (the Add).
  CHECK(rp.first[1] == 1);
  CHECK(rp.last[1] == 6);
}

TEST_CASE("an NCHW input is transposed into the arena; a plain chain ping-pongs two buffers") {
  using chain = Graph<Input<Shape<10, 10, 4>, Layout::nchw>, Conv2d<4, Kernel<3>, Pads<1>>, BatchNorm<>,
                      Conv2d<4, Kernel<3>, Pads<1>>, BatchNorm<>, Conv2d<4, Kernel<3>, Pads<1>>>;
  constexpr auto p = plan_v<chain>;
  constexpr std::size_t t = 10 * 10 * 4 * sizeof(float);  // 1600 bytes = 25 x 64
  CHECK(p.kind[0] == detail::storage_kind::arena);
  CHECK(p.storage[2] == 1);  // BatchNorm in place
  CHECK(p.arena_bytes == 2 * t);
  CHECK(p.live_bound == 2 * t);
  CHECK(p.naive_bytes == 3 * t);
}

TEST_CASE("the plan scales with the batch the arena is built for") {
  CHECK(arena_bytes_v<residual, 4> == 4 * arena_bytes_v<residual, 1>);
  CHECK(plan_v<residual, 4>.arena_bytes == plan_v<residual, 4>.live_bound);
  CHECK(sizeof(arena_for<residual, 4>) == arena_bytes_v<residual, 4>);
}

TEST_CASE("weight bytes are a compile-time constant") {
  constexpr std::size_t conv8 = 8 * 3 * 3 * 8 + 8;
  constexpr std::size_t expected = (3 * conv8 + (16 * 3 * 3 * 8 + 16) + (10 * 16 + 10)) * sizeof(float);
  static_assert(weight_bytes_v<residual> == expected);
  CHECK(weight_bytes_v<const residual&> == expected);
}

TEST_CASE("the arena's lower bound: the largest total of tensors live at one step") {
  // Step 1 writes A (16x16x8 floats, 8192 B) from the caller's input; step 2 reads A and writes B (8x8x16,
  // 4096 B): both live; step 3 reads B and writes the caller's output.
  using chain = Graph<Input<Shape<16, 16, 4>>, Conv2d<8, Kernel<3>, Pads<1>>, Conv2d<16, Kernel<3>, Stride<2>, Pads<1>>,
                      Conv2d<4, Kernel<1>>>;
  static_assert(arena_lower_bound_v<chain> == 8192 + 4096);
  CHECK(arena_lower_bound_v<chain, 3> == 3 * (8192 + 4096));
  CHECK(arena_lower_bound_v<chain> <= arena_bytes_v<chain>);
  CHECK(arena_lower_bound_v<residual> == 3 * t16);
  CHECK(arena_lower_bound_v<residual> <= arena_bytes_v<residual>);
}

TEST_CASE("weights_fit and arena_fits accept a model exactly at its budget") {
  static_assert(weights_fit<residual, weight_bytes_v<residual>>());
  static_assert(arena_fits<residual, arena_bytes_v<residual>>());
  CHECK(weights_fit<residual, 1u << 20>());
}
