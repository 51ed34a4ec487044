// statiq: compile-time typed neural network graphs, static memory plans and float/INT8 execution.
// The umbrella header; io/ (bake, weight files) and dynamic dispatch are included separately.
#pragma once

#include "statiq/core/diagnostics.hpp"
#include "statiq/core/shape.hpp"
#include "statiq/exec/plan.hpp"
#include "statiq/exec/run.hpp"
#include "statiq/graph/activation.hpp"
#include "statiq/graph/add.hpp"
#include "statiq/graph/attributes.hpp"
#include "statiq/graph/batch_norm.hpp"
#include "statiq/graph/concat.hpp"
#include "statiq/graph/conv2d.hpp"
#include "statiq/graph/dense.hpp"
#include "statiq/graph/graph.hpp"
#include "statiq/graph/input.hpp"
#include "statiq/graph/pool.hpp"
#include "statiq/graph/reshape.hpp"
#include "statiq/graph/softmax.hpp"
