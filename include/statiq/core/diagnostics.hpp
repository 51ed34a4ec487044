// Compile-time diagnostics: incomplete types whose names read as the sentence, with the numbers in them.
//
// C++20 static_assert cannot format numbers, so each check is a static_assert with the sentence plus an
// incomplete type carrying the node index, the layer and the shapes; the compiler prints both.
#pragma once

#include <cstddef>

namespace statiq::diagnostic {

// Node `Node` (a `Layer`) received inputs of shapes `Shapes...` that the layer cannot accept.
template <std::size_t Node, class Layer, class... Shapes>
struct shape_mismatch;

// Parameter `Param` of node `Node` (a `Layer` whose input has shape `InShape`) has `Got` floats, not `Expected`.
template <std::size_t Node, class Layer, class InShape, std::size_t Param, std::size_t Expected, std::size_t Got>
struct weight_count_mismatch;

// The graph takes `Expected` parameter arrays in node order; `Got` were given.
template <std::size_t Expected, std::size_t Got>
struct parameter_count_mismatch;

// Node `Node` (a `Layer`) needs `Expected` inputs and is wired to `Got`.
template <std::size_t Node, class Layer, std::size_t Expected, std::size_t Got>
struct input_count_mismatch;

// Node `Node` reads node `Input`, which is not an earlier node.
template <std::size_t Node, std::size_t Input>
struct input_not_an_earlier_node;

// The arena a model needs (`Bytes`) exceeds the budget the caller stated (`Budget`).
template <std::size_t Bytes, std::size_t Budget>
struct arena_exceeds_budget;

template <class T>
inline constexpr bool fail_v = false;

}  // namespace statiq::diagnostic

namespace statiq::diagnostic {
// Names `Diagnostic` in the compiler's error when `Ok` is false; usable in class scope and constexpr code:
//   static_assert(diagnostic::require<ok, diagnostic::shape_mismatch<...>>(), "sentence");
template <bool Ok, class Diagnostic>
constexpr bool require() {
  if constexpr (!Ok) {
    return sizeof(Diagnostic) == 0;  // Diagnostic is incomplete: this line is the error that names it
  } else {
    return true;
  }
}
}  // namespace statiq::diagnostic
