// Transform closures and `|`: `model | t` applies a transform, `t1 | t2` composes a reusable recipe.
//
// A transform type T opts in by deriving from transform_closure<T> and providing
//   template <model_type M> constexpr auto operator()(const M& m) const;   // returns a model (an Owned<G'>)
// Laws (tests/transform/pipeline_test.cpp): (m | a) | b == m | (a | b), same type and parameters;
// m | identity_transform == to_owned(m); a | identity_transform and identity_transform | a act as a.
// The operators are hidden friends of transform_closure<T>: found only by argument-dependent lookup when an
// operand is a transform, so they cannot capture `|` of unrelated types.
#pragma once

#include <concepts>
#include <type_traits>

#include "statiq/graph/graph.hpp"

namespace statiq {

template <class Derived>
struct transform_closure;

// A transform closure type: it derives from transform_closure<itself>.
template <class T>
concept transform_closure_type =
    std::is_class_v<std::remove_cvref_t<T>> &&
    std::derived_from<std::remove_cvref_t<T>, transform_closure<std::remove_cvref_t<T>>>;

template <class First, class Second>
struct composed_transform;

template <class Derived>
struct transform_closure {
  // model | transform
  template <class M>
    requires model_type<M> && std::invocable<const Derived&, const M&>
  friend constexpr auto operator|(const M& m, const Derived& t) {
    return t(m);
  }
  // transform | transform: apply the left one first.
  template <class Next>
    requires transform_closure_type<Next>
  friend constexpr composed_transform<Derived, Next> operator|(const Derived& first, const Next& next) {
    return composed_transform<Derived, Next>{first, next};
  }
};

// first, then second.
template <class First, class Second>
struct composed_transform : transform_closure<composed_transform<First, Second>> {
  First first;
  Second second;
  constexpr composed_transform(const First& f, const Second& s) : first(f), second(s) {}

  template <model_type M>
    requires std::invocable<const First&, const M&> &&
             std::invocable<const Second&, std::invoke_result_t<const First&, const M&>>
  constexpr auto operator()(const M& m) const {
    return second(first(m));
  }
};

// The transform that changes nothing: the model's own graph with its parameters copied (an Owned model).
struct identity_transform_t : transform_closure<identity_transform_t> {
  template <model_type M>
  constexpr Owned<graph_of_t<M>> operator()(const M& m) const {
    return to_owned(m);
  }
};
inline constexpr identity_transform_t identity_transform{};

}  // namespace statiq
