// GEMM / fully connected: statiq int8 and float kernels against oneDNN, XNNPACK, gemmlowp and Eigen, one run.
//
// Names: BM_Gemm_<who>/MxNxK/threads:T; counter GOPS = 2*M*N*K per second. who:
//   statiq_i16   int8, full-range s8 weights: the exact widening route (vpmovsxbw + vpmaddwd on AVX2)
//   statiq_7bit  int8, |w| <= 64 (saturation_fix): vpmaddubsw, exact by construction
//   statiq_f32   float (dense_f32)
//   onednn       oneDNN u8s8 matmul (its AVX2 path saturates vpmaddubsw: fast, not exact), onednn_f32
//   xnnpack      XNNPACK qs8 fully connected (exact)
//   gemmlowp     gemmlowp u8u8 (exact)
//   eigen_f32    Eigen float
// Peers are compiled in when found (STATIQ_BENCH_HAVE_*). Two threads: statiq splits channels (or rows
// when channels are few) over a spinning worker thread; peers use their own pools (OpenMP, pthreadpool).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "aligned.hpp"
#include "worker.hpp"
#include "statiq/kernels/dense.hpp"
#include "statiq/kernels/gemm.hpp"
#include "statiq/kernels/pack.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif
#if STATIQ_BENCH_HAVE_ONEDNN
#include <dnnl.hpp>
#endif
#if STATIQ_BENCH_HAVE_XNNPACK
#include <xnnpack.h>
#endif
#if STATIQ_BENCH_HAVE_GEMMLOWP
#include <gemmlowp/public/gemmlowp.h>
#endif
#if STATIQ_BENCH_HAVE_EIGEN
#include <Eigen/Core>
#endif

namespace {

struct Shape {
  std::size_t m, n, k;
};
constexpr Shape kShapes[] = {{1, 512, 784},   {64, 64, 576},   {196, 64, 288},
                             {784, 32, 288},  {256, 256, 256}, {1024, 1024, 1024}};

void SetGops(benchmark::State& state, const Shape& s) {
  state.counters["GOPS"] = benchmark::Counter(2.0 * s.m * s.n * s.k * state.iterations() / 1e9,
                                              benchmark::Counter::kIsRate);
}

// Splits work [0, total) in two at a multiple of `align`.
std::pair<std::size_t, std::size_t> Half(std::size_t total, std::size_t align) {
  std::size_t h = (total / 2 + align - 1) / align * align;
  if (h > total) h = total;
  return {h, total - h};
}

std::vector<std::uint8_t> RandomU8(std::size_t n, std::mt19937& rng) {
  std::vector<std::uint8_t> v(n);
  for (auto& x : v) x = static_cast<std::uint8_t>(rng());
  return v;
}
std::vector<std::int8_t> RandomS8(std::size_t n, int lo, int hi, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<std::int8_t> v(n);
  for (auto& x : v) x = static_cast<std::int8_t>(d(rng));
  return v;
}
std::vector<float> RandomF32(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Layers below this many multiply-adds run on one thread even in the two-thread benchmarks. The 1x512x784 GEMV (401 K)
// splits: each core streams half the weights from its own L2 (Zen 3: 6.0 us on one thread, 3.4 us on two).
constexpr double kSplitMacs = 2e5;

void BM_Gemm_statiq(benchmark::State& state, Shape s, bool seven_bit, int threads) {
  std::mt19937 rng(1);
  const auto x = RandomU8(s.m * s.k, rng);
  const auto w = seven_bit ? RandomS8(s.n * s.k, -64, 64, rng) : RandomS8(s.n * s.k, -127, 127, rng);
  std::vector<std::int32_t> bias(s.n, 1000);
  std::vector<statiq::kernels::ref::requant_multiplier> mult(s.n);
  for (std::size_t j = 0; j < s.n; ++j)
    mult[j] = statiq::kernels::ref::quantize_multiplier(1.0 / (64.0 * s.k) * (1.0 + 0.01 * j));
  statiq_bench::AlignedBytes packed(statiq::kernels::gemm_packed_size(s.n, s.k));
  statiq::kernels::pack_gemm_weights<std::uint8_t>(s.n, s.k, w.data(), bias.data(), 128, mult.data(), true,
                                                   packed.data());
  if (((statiq::kernels::gemm_packed_view{packed.data()}.flags() & statiq::kernels::gemm_pairs_fit_s16) != 0) !=
      seven_bit) {
    state.SkipWithError("unexpected route");
    return;
  }
  std::vector<std::uint8_t> y(s.m * s.n);
  const bool split = threads > 1 && double(s.m) * s.n * s.k >= kSplitMacs;
  if (!split) {
    for (auto _ : state) {
      statiq::kernels::matmul_u8s8_to_u8(packed.data(), s.m, x.data(), s.k, 3, 0, 255, y.data(), s.n);
      benchmark::ClobberMemory();
    }
  } else {
    statiq_bench::Worker worker;
    const bool by_rows = s.n < 64;
    // Plain variables, not a structured binding: clang 14 cannot capture bindings in the lambda below.
    const auto halves = by_rows ? Half(s.m, 4) : Half(s.n, 8);
    const std::size_t h0 = halves.first, h1 = halves.second;
    (void)h1;
    const std::function<void(int)> job = [&](int t) {
      if (by_rows) {
        const std::size_t r0 = t == 0 ? 0 : h0, r1 = t == 0 ? h0 : s.m;
        statiq::kernels::matmul_u8s8_to_u8(packed.data(), r1 - r0, x.data() + r0 * s.k, s.k, 3, 0, 255,
                                           y.data() + r0 * s.n, s.n);
      } else {
        statiq::kernels::gemm_packed(packed.data(), s.m, x.data(), s.k, y.data(), s.n, 3, 0, 255, t == 0 ? 0 : h0,
                                     t == 0 ? h0 : s.n);
      }
    };
    for (auto _ : state) {
      worker.Run(job);
      benchmark::ClobberMemory();
    }
  }
  SetGops(state, s);
}

void BM_Gemm_statiq_f32(benchmark::State& state, Shape s, int threads) {
  std::mt19937 rng(2);
  const auto x = RandomF32(s.m * s.k, rng), w = RandomF32(s.n * s.k, rng), b = RandomF32(s.n, rng);
  std::vector<float> y(s.m * s.n);
  const bool split = threads > 1 && double(s.m) * s.n * s.k >= kSplitMacs;
  if (!split) {
    for (auto _ : state) {
      statiq::kernels::dense_f32(s.m, s.n, s.k, x.data(), w.data(), b.data(), y.data(), 0.0f, 1e30f);
      benchmark::ClobberMemory();
    }
  } else {
    statiq_bench::Worker worker;
    // Narrow layers split by rows, as the int8 benchmark: split by columns, each thread streamed all of x (784x32x288
    // ran slower on two threads than on one).
    const bool by_rows = s.n < 64;
    const auto halves = by_rows ? Half(s.m, 4) : Half(s.n, 3);
    const std::size_t h0 = halves.first, h1 = halves.second;
    (void)h1;
    const std::function<void(int)> job = [&](int t) {
      if (by_rows) {
        const std::size_t r0 = t == 0 ? 0 : h0, r1 = t == 0 ? h0 : s.m;
        statiq::kernels::dense_f32(r1 - r0, s.n, s.k, x.data() + r0 * s.k, w.data(), b.data(), y.data() + r0 * s.n,
                                   0.0f, 1e30f);
      } else {
        statiq::kernels::dense_f32(s.m, s.n, s.k, x.data(), w.data(), b.data(), y.data(), 0.0f, 1e30f,
                                   t == 0 ? 0 : h0, t == 0 ? h0 : s.n);
      }
    };
    for (auto _ : state) {
      worker.Run(job);
      benchmark::ClobberMemory();
    }
  }
  SetGops(state, s);
}

#if STATIQ_BENCH_HAVE_ONEDNN
template <bool kInt8>
void BM_Gemm_onednn(benchmark::State& state, Shape s, int threads) {
#if defined(_OPENMP)
  omp_set_num_threads(threads);
#endif
  using namespace dnnl;
  using dt = memory::data_type;
  using tag = memory::format_tag;
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dim M = s.m, N = s.n, K = s.k;
  std::mt19937 rng(3);
  const dt src_t = kInt8 ? dt::u8 : dt::f32, wei_t = kInt8 ? dt::s8 : dt::f32, dst_t = kInt8 ? dt::u8 : dt::f32;
  memory::desc a_md({M, K}, src_t, tag::ab), b_md({K, N}, wei_t, tag::any), c_md({M, N}, dst_t, tag::ab);
  memory::desc bias_md({1, N}, kInt8 ? dt::s32 : dt::f32, tag::ab);
  primitive_attr attr;
  if (kInt8) {
    std::vector<float> scales(N);
    for (memory::dim j = 0; j < N; ++j) scales[j] = 1.0f / (64.0f * K) * (1.0f + 0.01f * j);
    attr.set_output_scales(2, scales);
    attr.set_zero_points(DNNL_ARG_SRC, 0, {128});
    attr.set_zero_points(DNNL_ARG_DST, 0, {3});
  }
  matmul::primitive_desc pd(matmul::desc(a_md, b_md, bias_md, c_md), attr, eng);
  memory a(a_md, eng), c(c_md, eng), bias(bias_md, eng), b(pd.weights_desc(), eng);
  // weights [N][K] are the K x N matrix in column-major (tag ba)
  memory b_user({{K, N}, wei_t, tag::ba}, eng);
  if (kInt8) {
    auto xv = RandomU8(M * K, rng);
    std::memcpy(a.get_data_handle(), xv.data(), xv.size());
    auto wv = RandomS8(N * K, -127, 127, rng);
    std::memcpy(b_user.get_data_handle(), wv.data(), wv.size());
    std::vector<std::int32_t> bv(N, 1000);
    std::memcpy(bias.get_data_handle(), bv.data(), bv.size() * 4);
  } else {
    auto xv = RandomF32(M * K, rng), wv = RandomF32(N * K, rng), bv = RandomF32(N, rng);
    std::memcpy(a.get_data_handle(), xv.data(), xv.size() * 4);
    std::memcpy(b_user.get_data_handle(), wv.data(), wv.size() * 4);
    std::memcpy(bias.get_data_handle(), bv.data(), bv.size() * 4);
  }
  reorder(b_user, b).execute(strm, b_user, b);
  matmul mm(pd);
  for (auto _ : state) {
    mm.execute(strm, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, c}});
    strm.wait();
  }
  SetGops(state, s);
}
#endif

#if STATIQ_BENCH_HAVE_XNNPACK
void BM_Gemm_xnnpack(benchmark::State& state, Shape s, int threads) {
  if (xnn_initialize(nullptr) != xnn_status_success) {
    state.SkipWithError("xnn_initialize");
    return;
  }
  std::mt19937 rng(4);
  const auto x = RandomS8(s.m * s.k, -128, 127, rng), w = RandomS8(s.n * s.k, -127, 127, rng);
  std::vector<std::int32_t> bias(s.n, 1000);
  std::vector<std::int8_t> y(s.m * s.n);
  xnn_operator_t op = nullptr;
  if (xnn_create_fully_connected_nc_qs8(s.k, s.n, s.k, s.n, 0, 1.0f, 1.0f, w.data(), bias.data(), 3,
                                        64.0f * s.k, -128, 127, 0, &op) != xnn_status_success) {
    state.SkipWithError("xnn_create_fully_connected_nc_qs8");
    return;
  }
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;
  xnn_setup_fully_connected_nc_qs8(op, s.m, x.data(), y.data(), pool);
  for (auto _ : state) {
    xnn_run_operator(op, pool);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  if (pool) pthreadpool_destroy(pool);
  SetGops(state, s);
}
#endif

#if STATIQ_BENCH_HAVE_GEMMLOWP
void BM_Gemm_gemmlowp(benchmark::State& state, Shape s, int threads) {
  std::mt19937 rng(5);
  const auto x = RandomU8(s.m * s.k, rng), w = RandomU8(s.n * s.k, rng);
  std::vector<std::uint8_t> y(s.m * s.n);
  gemmlowp::GemmContext ctx;
  ctx.set_max_num_threads(threads);
  gemmlowp::MatrixMap<const std::uint8_t, gemmlowp::MapOrder::RowMajor> lhs(x.data(), s.m, s.k);
  gemmlowp::MatrixMap<const std::uint8_t, gemmlowp::MapOrder::ColMajor> rhs(w.data(), s.k, s.n);
  gemmlowp::MatrixMap<std::uint8_t, gemmlowp::MapOrder::RowMajor> res(y.data(), s.m, s.n);
  gemmlowp::OutputStageQuantizeDownInt32ByFixedPoint q;
  q.result_fixedpoint_multiplier = 1 << 30;
  q.result_shift = 10;
  q.result_offset_after_shift = 3;
  const auto pipeline = std::make_tuple(q, gemmlowp::OutputStageSaturatingCastToUint8());
  for (auto _ : state) {
    gemmlowp::GemmWithOutputPipeline<std::uint8_t, std::uint8_t, gemmlowp::DefaultL8R8BitDepthParams>(
        &ctx, lhs, rhs, &res, -128, -128, pipeline);
    benchmark::ClobberMemory();
  }
  SetGops(state, s);
}
#endif

#if STATIQ_BENCH_HAVE_EIGEN
void BM_Gemm_eigen_f32(benchmark::State& state, Shape s, int threads) {
  Eigen::setNbThreads(threads);
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  std::mt19937 rng(6);
  Mat x(s.m, s.k), w(s.n, s.k), y(s.m, s.n);
  const auto xv = RandomF32(s.m * s.k, rng), wv = RandomF32(s.n * s.k, rng);
  std::copy(xv.begin(), xv.end(), x.data());
  std::copy(wv.begin(), wv.end(), w.data());
  for (auto _ : state) {
    y.noalias() = x * w.transpose();
    benchmark::DoNotOptimize(y.data());
  }
  SetGops(state, s);
}
#endif

std::string Name(const char* who, const Shape& s, int threads) {
  return std::string("BM_Gemm_") + who + "/" + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
         std::to_string(s.k) + "/threads:" + std::to_string(threads);
}

void RegisterAll() {
  for (int t : {1, 2}) {
    for (const Shape& s : kShapes) {
      benchmark::RegisterBenchmark(Name("statiq_i16", s, t).c_str(), BM_Gemm_statiq, s, false, t)->UseRealTime();
      benchmark::RegisterBenchmark(Name("statiq_7bit", s, t).c_str(), BM_Gemm_statiq, s, true, t)->UseRealTime();
#if STATIQ_BENCH_HAVE_ONEDNN
      benchmark::RegisterBenchmark(Name("onednn", s, t).c_str(), BM_Gemm_onednn<true>, s, t)->UseRealTime();
#endif
#if STATIQ_BENCH_HAVE_XNNPACK
      benchmark::RegisterBenchmark(Name("xnnpack", s, t).c_str(), BM_Gemm_xnnpack, s, t)->UseRealTime();
#endif
#if STATIQ_BENCH_HAVE_GEMMLOWP
      benchmark::RegisterBenchmark(Name("gemmlowp", s, t).c_str(), BM_Gemm_gemmlowp, s, t)->UseRealTime();
#endif
      benchmark::RegisterBenchmark(Name("statiq_f32", s, t).c_str(), BM_Gemm_statiq_f32, s, t)->UseRealTime();
#if STATIQ_BENCH_HAVE_ONEDNN
      benchmark::RegisterBenchmark(Name("onednn_f32", s, t).c_str(), BM_Gemm_onednn<false>, s, t)->UseRealTime();
#endif
#if STATIQ_BENCH_HAVE_EIGEN
      benchmark::RegisterBenchmark(Name("eigen_f32", s, t).c_str(), BM_Gemm_eigen_f32, s, t)->UseRealTime();
#endif
    }
  }
}

const bool kRegistered = (RegisterAll(), true);

}  // namespace
