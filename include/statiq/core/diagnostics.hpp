// Compile-time diagnostics: incomplete types whose names read as the sentence, with the numbers in them.
//
// C++20 static_assert cannot format numbers, so each check's condition names a type carrying the node index,
// the layer and the shapes; the compiler prints it beside the sentence.
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

// The parameters a model holds (`Bytes`) exceed the budget the caller stated (`Budget`).
template <std::size_t Bytes, std::size_t Budget>
struct weights_exceed_budget;

// ok<cond, Diagnostic> is cond; as a static_assert condition it makes g++ ("'ok<false, shape_mismatch<...>>'
// evaluates to false") and clang ("failed due to requirement 'ok<false, shape_mismatch<...>>'") print the
// diagnostic type with its numbers beside the sentence.
template <bool Ok, class Diagnostic>
inline constexpr bool ok = Ok;
}  // namespace statiq::diagnostic

// STATIQ_REQUIRE(cond, "sentence", diagnostic_type<...>): a static_assert whose error shows the sentence and
// the diagnostic type with the node index, layer, shapes and counts in it.
#define STATIQ_REQUIRE(cond, message, ...) static_assert(::statiq::diagnostic::ok<(cond), __VA_ARGS__>, message)
