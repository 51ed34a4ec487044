// The C++ spelling of a type, as the compiler prints it (g++ and clang both give compilable text for
// statiq's graph vocabulary), so a baked header can name the model's type.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace statiq::io {

namespace detail {
template <class T>
constexpr std::string_view pretty_function() {
  return __PRETTY_FUNCTION__;
}
}  // namespace detail

template <class T>
std::string type_name() {
  const std::string_view p = detail::pretty_function<T>();
  const std::size_t start = p.find("T = ") + 4;
  int depth = 0;
  std::size_t i = start;
  for (; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '<' || c == '(' || c == '[') ++depth;
    if (c == '>' || c == ')') --depth;
    if (c == ']') {
      if (depth == 0) break;
      --depth;
    }
    if (c == ';' && depth == 0) break;
  }
  std::string s(p.substr(start, i - start));
  // Normalise the fundamental types that appear as template arguments to their <cstdint> names.
  for (auto [from, to] : {std::pair<std::string_view, std::string_view>{"unsigned char", "std::uint8_t"},
                          {"signed char", "std::int8_t"}}) {
    for (std::size_t k = s.find(from); k != std::string::npos; k = s.find(from, k + to.size())) s.replace(k, from.size(), to);
  }
  return s;
}

// The type of every node's layer of graph G, in node order (for reports).
template <class G>
std::vector<std::string> layer_names() {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::vector<std::string>{type_name<typename G::template layer_t<I>>()...};
  }(std::make_index_sequence<G::num_nodes>{});
}

}  // namespace statiq::io
