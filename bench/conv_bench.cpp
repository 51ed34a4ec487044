// Convolution layers, on one thread and on two: statiq int8 (u8 x s8, exact) vs oneDNN u8s8 and XNNPACK qs8, plus f32
// (statiq and oneDNN). Shapes: the Fashion-MNIST CNN's convolutions, a MobileNet-style block, a wide depthwise.
// Names: BM_Conv_<who>/<layer>/threads:T; counter GOPS = 2 * MACs per second (real time). Two threads: statiq
// splits the output rows in halves (kernels::conv2d_rows) over a spinning worker thread; peers use their own pools
// (OpenMP, pthreadpool). who: statiq (full-range s8 weights: the
// exact widening route), statiq_7bit (|w| <= 63, the quantizer's weights on AVX2 without VNNI: the GEMM's
// vpmaddubsw route, the first-layer and depthwise quad kernels, also exact), onednn (u8s8, one output scale and no
// zero points: oneDNN's fastest int8 configuration, less work than statiq's; its vpmaddubsw saturates on full-range
// data), onednn_zp (u8s8 with statiq's requantization: per-channel scales, input zero point 3, output zero point 5,
// as the GEMM benchmark's oneDNN), xnnpack (qs8, zero points 3 and 5), statiq_f32, onednn_f32.
// BM_ConvPool_statiq_7bit_{fused,separate}: the Fashion-MNIST convs with a 2x2 max pool after them, fused into
// one kernel or run as conv then pool. Peers are compiled in when found (STATIQ_BENCH_HAVE_*). Run:
// statiq_conv_bench --benchmark_min_time=0.2
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#if STATIQ_BENCH_HAVE_ONEDNN
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif
#if STATIQ_BENCH_HAVE_XNNPACK
#include <xnnpack.h>
#endif

#include "aligned.hpp"
#include "worker.hpp"
#include "statiq/kernels/conv2d.hpp"
#include "statiq/kernels/depthwise_conv.hpp"
#include "statiq/kernels/pool.hpp"

namespace {

using statiq::kernels::conv2d_dims;

struct layer {
  const char* name;
  int h, w, cin, cout, k, stride, pad;
  bool depthwise;
};

// Fashion-MNIST CNN: 28x28x1 -> 16 (3x3 pad 1), 14x14x16 -> 32 (3x3 pad 1), 28x28x32 -> 32 (3x3 pad 1);
// MobileNet-style block: 28x28x24 depthwise 3x3, then 1x1 24 -> 48; depthwise 28x28x128 3x3.
const layer kLayers[] = {
    {"fmnist_conv1_28x28x1_16_3x3", 28, 28, 1, 16, 3, 1, 1, false},
    {"fmnist_conv2_14x14x16_32_3x3", 14, 14, 16, 32, 3, 1, 1, false},
    {"conv_28x28x32_32_3x3", 28, 28, 32, 32, 3, 1, 1, false},
    {"mbv_dw_28x28x24_3x3", 28, 28, 24, 24, 3, 1, 1, true},
    {"mbv_pw_28x28x24_48_1x1", 28, 28, 24, 48, 1, 1, 0, false},
    {"dw_28x28x128_3x3", 28, 28, 128, 128, 3, 1, 1, true},
};

conv2d_dims dims_of(const layer& l) {
  conv2d_dims d;
  d.in_h = l.h;
  d.in_w = l.w;
  d.in_c = l.cin;
  d.out_c = l.cout;
  d.k_h = d.k_w = l.k;
  d.stride_h = d.stride_w = l.stride;
  d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = l.pad;
  d.groups = l.depthwise ? l.cin : 1;
  d.out_h = (l.h + 2 * l.pad - l.k) / l.stride + 1;
  d.out_w = (l.w + 2 * l.pad - l.k) / l.stride + 1;
  return d;
}

double macs_of(const conv2d_dims& d) {
  return double(d.out_h) * d.out_w * d.out_c * d.k_h * d.k_w * (d.in_c / d.groups);
}

void set_gops(benchmark::State& st, const conv2d_dims& d) {
  st.counters["GOPS"] = benchmark::Counter(2.0 * macs_of(d) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Runs conv(dims, x_offset, y_offset) over the whole layer each iteration: on this thread, or on two, each computing
// half the output rows (kernels::conv2d_rows) with the same weights.
template <class Conv>
void run_statiq(benchmark::State& st, const conv2d_dims& d, int threads, const Conv& conv) {
  if (threads == 1 || d.out_h < 2) {
    for (auto _ : st) {
      conv(d, std::size_t{0}, std::size_t{0});
      benchmark::ClobberMemory();
    }
    return;
  }
  const statiq::kernels::conv2d_row_slice half[2] = {statiq::kernels::conv2d_rows(d, 0, d.out_h / 2),
                                                     statiq::kernels::conv2d_rows(d, d.out_h / 2, d.out_h)};
  statiq_bench::Worker worker;
  const std::function<void(int)> job = [&](int t) { conv(half[t].d, half[t].x_offset, half[t].y_offset); };
  for (auto _ : st) {
    worker.Run(job);
    benchmark::ClobberMemory();
  }
}

template <class T>
statiq_bench::AlignedVector<T> random_vec(std::size_t n, int lo, int hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  statiq_bench::AlignedVector<T> v(n);
  for (auto& e : v) e = static_cast<T>(dist(rng));
  return v;
}

std::size_t x_size(const conv2d_dims& d) { return std::size_t(d.in_h) * d.in_w * d.in_c; }
std::size_t y_size(const conv2d_dims& d) { return std::size_t(d.out_h) * d.out_w * d.out_c; }
std::size_t w_size(const conv2d_dims& d) { return std::size_t(d.out_c) * d.k_h * d.k_w * (d.in_c / d.groups); }

// statiq int8: u8 activations (zero point 3), s8 weights with |w| <= wmax (127: the exact widening route;
// 63: 7-bit weights, where the GEMM's vpmaddubsw route is exact), per-channel multipliers.
void bm_statiq_q(benchmark::State& st, layer l, int wmax, int threads) {
  const conv2d_dims d = dims_of(l);
  auto x = random_vec<std::uint8_t>(x_size(d), 0, 255, 1);
  auto w = random_vec<std::int8_t>(w_size(d), -wmax, wmax, 2);
  auto bias = random_vec<std::int32_t>(d.out_c, -1000, 1000, 3);
  std::vector<statiq::kernels::ref::requant_multiplier> m(d.out_c, statiq::kernels::ref::quantize_multiplier(1.0 / 4096));
  statiq_bench::AlignedVector<std::uint8_t> y(y_size(d));
  statiq::kernels::qconv_params q;
  q.x_zero_point = 3;
  q.y_zero_point = 5;
  q.multiplier = m.data();
  q.lo = 0;
  q.hi = 255;
  if (l.depthwise) {
    run_statiq(st, d, threads, [&](const conv2d_dims& sd, std::size_t xo, std::size_t yo) {
      statiq::kernels::depthwise_conv2d_q(sd, q, x.data() + xo, w.data(), bias.data(), y.data() + yo);
    });
  } else {
    statiq_bench::AlignedBytes packed(statiq::kernels::conv2d_q_packed_size(d));
    statiq::kernels::pack_conv2d_q<std::uint8_t>(d, q, w.data(), bias.data(), packed.data());
    run_statiq(st, d, threads, [&](const conv2d_dims& sd, std::size_t xo, std::size_t yo) {
      statiq::kernels::conv2d_q(sd, packed.data(), x.data() + xo, q.y_zero_point, q.lo, q.hi, y.data() + yo);
    });
  }
  set_gops(st, d);
}

// statiq int8 convolution followed by a 2x2, stride-2 max pool: fused (conv2d_q_max_pool2, what an int8 model
// runs when a MaxPool follows the conv) or as two kernels (conv2d_q into a full-size buffer, then max_pool2d).
// GOPS counts the convolution's MACs.
void bm_statiq_conv_pool(benchmark::State& st, layer l, int wmax, bool fused) {
  const conv2d_dims d = dims_of(l);
  auto x = random_vec<std::uint8_t>(x_size(d), 0, 255, 1);
  auto w = random_vec<std::int8_t>(w_size(d), -wmax, wmax, 2);
  auto bias = random_vec<std::int32_t>(d.out_c, -1000, 1000, 3);
  std::vector<statiq::kernels::ref::requant_multiplier> m(d.out_c, statiq::kernels::ref::quantize_multiplier(1.0 / 4096));
  statiq::kernels::qconv_params q;
  q.x_zero_point = 3;
  q.y_zero_point = 5;
  q.multiplier = m.data();
  statiq_bench::AlignedBytes packed(statiq::kernels::conv2d_q_packed_size(d));
  statiq::kernels::pack_conv2d_q<std::uint8_t>(d, q, w.data(), bias.data(), packed.data());
  const statiq::kernels::pool2d_dims p = statiq::kernels::conv2d_q_pool2_dims(d);
  statiq_bench::AlignedVector<std::uint8_t> full(y_size(d)), y(std::size_t(p.out_h) * p.out_w * d.out_c);
  for (auto _ : st) {
    if (fused) {
      statiq::kernels::conv2d_q_max_pool2(d, packed.data(), x.data(), q.y_zero_point, 0, 255, y.data());
    } else {
      statiq::kernels::conv2d_q(d, packed.data(), x.data(), q.y_zero_point, 0, 255, full.data());
      statiq::kernels::max_pool2d(p, full.data(), y.data());
    }
    benchmark::DoNotOptimize(y.data());
  }
  set_gops(st, d);
}

void bm_statiq_f32(benchmark::State& st, layer l, int threads) {
  const conv2d_dims d = dims_of(l);
  statiq_bench::AlignedVector<float> x(x_size(d), 0.5f), w(w_size(d), 0.25f), bias(d.out_c, 0.1f), y(y_size(d));
  run_statiq(st, d, threads, [&](const conv2d_dims& sd, std::size_t xo, std::size_t yo) {
    if (l.depthwise)
      statiq::kernels::depthwise_conv2d_f32(sd, x.data() + xo, w.data(), bias.data(), y.data() + yo, 0.0f, 6.0f);
    else statiq::kernels::conv2d_f32(sd, x.data() + xo, w.data(), bias.data(), y.data() + yo, 0.0f, 6.0f);
  });
  set_gops(st, d);
}

#if STATIQ_BENCH_HAVE_ONEDNN
// oneDNN: NHWC activations, weights in the layout oneDNN picks (reordered once, outside the loop).
// int8: u8 src, s8 weights, s32 bias, u8 dst; one output scale and no zero points (oneDNN's fast path), or with
// same_work the requantization statiq's kernels do: a scale per output channel and zero points on input and output
// (the input's is oneDNN's padding compensation, as statiq pads with the input zero point).
void bm_onednn(benchmark::State& st, layer l, bool int8, bool same_work, int threads) {
  using namespace dnnl;
  omp_set_num_threads(threads);  // Debian's oneDNN runs on OpenMP
  const conv2d_dims d = dims_of(l);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const memory::dim G = d.groups;
  const auto dt_x = int8 ? memory::data_type::u8 : memory::data_type::f32;
  const auto dt_w = int8 ? memory::data_type::s8 : memory::data_type::f32;
  const auto dt_b = int8 ? memory::data_type::s32 : memory::data_type::f32;
  memory::desc src_md({1, d.in_c, d.in_h, d.in_w}, dt_x, memory::format_tag::nhwc);
  memory::desc dst_md({1, d.out_c, d.out_h, d.out_w}, dt_x, memory::format_tag::nhwc);
  memory::desc bias_md({d.out_c}, dt_b, memory::format_tag::x);
  memory::dims wdims = G > 1 ? memory::dims{G, d.out_c / G, d.in_c / G, d.k_h, d.k_w}
                             : memory::dims{d.out_c, d.in_c, d.k_h, d.k_w};
  memory::desc w_any(wdims, dt_w, memory::format_tag::any);
  memory::desc w_user(wdims, dt_w, G > 1 ? memory::format_tag::goihw : memory::format_tag::oihw);
  convolution_forward::desc cd(prop_kind::forward_inference, algorithm::convolution_direct, src_md, w_any, bias_md,
                               dst_md, {d.stride_h, d.stride_w}, {d.dil_h - 1, d.dil_w - 1}, {d.pad_top, d.pad_left},
                               {d.pad_bottom, d.pad_right});
  primitive_attr attr;
  if (int8 && same_work) {
    attr.set_output_scales(1 << 1, std::vector<float>(d.out_c, 1.0f / 4096));
    attr.set_zero_points(DNNL_ARG_SRC, 0, {3});
    attr.set_zero_points(DNNL_ARG_DST, 0, {5});
  } else if (int8) {
    attr.set_output_scales(0, {1.0f / 4096});
  }
  convolution_forward::primitive_desc pd(cd, attr, eng);
  memory src(src_md, eng), dst(dst_md, eng), bias(bias_md, eng), wu(w_user, eng), w(pd.weights_desc(), eng);
  if (int8) {
    auto xs = random_vec<std::uint8_t>(x_size(d), 0, 255, 1);
    auto ws = random_vec<std::int8_t>(w_size(d), -127, 127, 2);
    std::memcpy(src.get_data_handle(), xs.data(), xs.size());
    std::memcpy(wu.get_data_handle(), ws.data(), ws.size());
    std::memset(bias.get_data_handle(), 0, d.out_c * 4);
  } else {
    std::vector<float> xs(x_size(d), 0.5f), ws(w_size(d), 0.25f), bs(d.out_c, 0.1f);
    std::memcpy(src.get_data_handle(), xs.data(), xs.size() * 4);
    std::memcpy(wu.get_data_handle(), ws.data(), ws.size() * 4);
    std::memcpy(bias.get_data_handle(), bs.data(), bs.size() * 4);
  }
  reorder(wu, w).execute(strm, wu, w);
  convolution_forward conv(pd);
  for (auto _ : st) {
    conv.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST, dst}});
    strm.wait();
  }
  set_gops(st, d);
  st.SetLabel(pd.impl_info_str());
}

#endif  // STATIQ_BENCH_HAVE_ONEDNN

#if STATIQ_BENCH_HAVE_XNNPACK
// XNNPACK qs8 convolution NHWC (s8 activations with zero point, per-tensor s8 weights); two threads: its pthreadpool.
void bm_xnnpack(benchmark::State& st, layer l, int threads) {
  const conv2d_dims d = dims_of(l);
  static const bool init = xnn_initialize(nullptr) == xnn_status_success;
  if (!init) return st.SkipWithError("xnn_initialize failed");
  auto x = random_vec<std::int8_t>(x_size(d), -128, 127, 1);
  auto w = random_vec<std::int8_t>(w_size(d), -127, 127, 2);
  auto bias = random_vec<std::int32_t>(d.out_c, -1000, 1000, 3);
  statiq_bench::AlignedVector<std::int8_t> y(y_size(d));
  xnn_operator_t op = nullptr;
  const std::size_t cin_g = d.in_c / d.groups, cout_g = d.out_c / d.groups;
  if (xnn_create_convolution2d_nhwc_qs8(d.pad_top, d.pad_right, d.pad_bottom, d.pad_left, d.k_h, d.k_w, d.stride_h,
                                        d.stride_w, d.dil_h, d.dil_w, d.groups, cin_g, cout_g, d.in_c, d.out_c, 3,
                                        0.02f, 0.01f, w.data(), bias.data(), 5, 0.05f, -128, 127, 0,
                                        &op) != xnn_status_success)
    return st.SkipWithError("xnn_create_convolution2d_nhwc_qs8 failed");
  pthreadpool_t pool = threads > 1 ? pthreadpool_create(threads) : nullptr;
  if (xnn_setup_convolution2d_nhwc_qs8(op, 1, d.in_h, d.in_w, x.data(), y.data(), pool) != xnn_status_success) {
    xnn_delete_operator(op);
    if (pool) pthreadpool_destroy(pool);
    return st.SkipWithError("xnn_setup_convolution2d_nhwc_qs8 failed");
  }
  for (auto _ : st) {
    xnn_run_operator(op, pool);
    benchmark::DoNotOptimize(y.data());
  }
  xnn_delete_operator(op);
  if (pool) pthreadpool_destroy(pool);
  set_gops(st, d);
}

#endif  // STATIQ_BENCH_HAVE_XNNPACK

void register_all() {
  for (int threads : {1, 2})
    for (const layer& l : kLayers) {
      const std::string s = std::string(l.name) + "/threads:" + std::to_string(threads);
      const auto add = [&](const char* who, auto fn, auto... args) {
        benchmark::RegisterBenchmark((std::string("BM_Conv_") + who + "/" + s).c_str(), fn, l, args...)->UseRealTime();
      };
      add("statiq", bm_statiq_q, 127, threads);
      add("statiq_7bit", bm_statiq_q, 63, threads);
#if STATIQ_BENCH_HAVE_ONEDNN
      add("onednn", bm_onednn, true, false, threads);
      add("onednn_zp", bm_onednn, true, true, threads);
#endif
#if STATIQ_BENCH_HAVE_XNNPACK
      add("xnnpack", bm_xnnpack, threads);
#endif
      add("statiq_f32", bm_statiq_f32, threads);
#if STATIQ_BENCH_HAVE_ONEDNN
      add("onednn_f32", bm_onednn, false, false, threads);
#endif
    }
  // Convolution + 2x2 max pool, fused and as two kernels (the Fashion-MNIST CNN's two conv -> ReLU -> pool steps).
  for (const layer& l : kLayers) {
    const std::string s = l.name;
    if (s.rfind("fmnist_", 0) != 0) continue;
    benchmark::RegisterBenchmark(("BM_ConvPool_statiq_7bit_fused/" + s).c_str(), bm_statiq_conv_pool, l, 63, true);
    benchmark::RegisterBenchmark(("BM_ConvPool_statiq_7bit_separate/" + s).c_str(), bm_statiq_conv_pool, l, 63, false);
  }
}

const bool kRegistered = (register_all(), true);

}  // namespace
