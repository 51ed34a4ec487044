// Range supervision (Ranger) measured by fault injection: the Fashion-MNIST CNN in float and INT8, with and
// without statiq::protect, scored on the test images while bits flip in its weights and activations at rates
// from 1e-7 to 1e-3 per bit, several seeds per rate, at two fault sites: memory (every stored tensor, fused
// plan) and operator_output (every operator's raw output before its activation, unfused plan; see
// statiq/fault/injector.hpp). Prints one table per site and writes them as JSON and as an SVG plot (one panel per
// site: accuracy against the flip rate, log x axis, one curve per model with its min-max band over the seeds).
//
//   ranger_example train-images train-labels test-images test-labels
//                  [--images N] [--seeds K] [--rates r1,r2,...] [--json out.json] [--svg out.svg]
//                  [--faults both|weights|activations]   (what takes bit flips; default both)
//                  [--site memory|operator_output|both]  (where activation faults strike; default both, the
//                                                         two sites measured on two threads)
//
// Exits 1 if protection, or the fault site's memory plan, changes clean (fault-free) accuracy, the property the
// measurement relies on.
#include STATIQ_EXAMPLE_HEADER

#include <statiq/calibrate/calibrate.hpp>
#include <statiq/fault/injector.hpp>
#include <statiq/statiq.hpp>
#include <statiq/transform/protect.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../common/fashion_mnist.hpp"

namespace {

namespace model_ns = STATIQ_EXAMPLE_NAMESPACE;
using graph = model_ns::graph;
constexpr std::size_t in_size = graph::input_shape::size;
constexpr std::size_t out_size = graph::output_shape::size;
static_assert(in_size == 784 && out_size == 10, "the example scores 28x28 images in 10 classes");

struct settings {
  std::size_t images = 10000;
  std::size_t seeds = 5;
  std::vector<double> rates{1e-7, 3e-7, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3};
  std::string json = "ranger.json";
  std::string svg = "ranger.svg";
  bool weights = true, activations = true;  // --faults both|weights|activations
  std::vector<statiq::fault::site> sites{statiq::fault::site::memory, statiq::fault::site::operator_output};
};

// Accuracy over the first n test images, one image per inference (batch 1), under the injector's faults.
template <class M>
double accuracy_under_faults(const M& m, const statiq_examples::fashion_mnist& test, std::size_t n,
                             const statiq::fault::options& o) {
  using statiq::fault::site;
  // One arena per call: the two sites are measured on two threads.
  const auto fused = std::make_unique<statiq::fault::arena_for<M, 1, site::memory>>();
  const auto unfused = std::make_unique<statiq::fault::arena_for<M, 1, site::operator_output>>();
  statiq::fault::injector inj(m, o);
  float logits[out_size];
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::span<const float> x(test.images.data() + i * in_size, in_size);
    const statiq::status st = o.where == site::memory ? inj.run(x, std::span<float>(logits), *fused)
                                                      : inj.run(x, std::span<float>(logits), *unfused);
    if (st != statiq::status::ok) throw std::runtime_error(std::string("run failed: ") + statiq::to_string(st));
    // argmax; a NaN logit never wins (a comparison with NaN is false), so an all-NaN output predicts class 0.
    std::size_t best = 0;
    for (std::size_t k = 1; k < out_size; ++k)
      if (logits[k] > logits[best] || logits[best] != logits[best]) best = k;
    correct += best == test.labels[i];
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

struct curve {
  std::string name;      // as in the table and the JSON
  std::string color;     // for the plot
  statiq::fault::site where = statiq::fault::site::memory;
  double clean = 0;      // fault-free accuracy
  std::vector<std::vector<double>> acc;  // [rate][seed]
};

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double sd_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return v.size() > 1 ? std::sqrt(s / static_cast<double>(v.size() - 1)) : 0.0;
}

std::string json_table(const settings& s, const std::vector<curve>& curves) {
  std::ostringstream o;
  o.precision(6);
  o << "{\n  \"model\": \"" << STATIQ_EXAMPLE_NAME_STRING << "\",\n  \"test_images\": " << s.images
    << ",\n  \"seeds\": " << s.seeds << ",\n  \"faults_in\": {\"weights\": " << (s.weights ? "true" : "false")
    << ", \"activations\": " << (s.activations ? "true" : "false") << "},\n  \"fault_model\": \"each bit of the weight "
    << "and bias values (per inference) and of the activation tensors the site exposes flips independently with "
    << "probability rate\",\n  \"sites\": {\"memory\": \"every tensor a layer writes, in the fused memory plan (a clamp "
    << "runs before the value is stored)\", \"operator_output\": \"every operator's raw output (Conv2d, Dense, "
    << "pooling), before the activation that follows reads it (unfused plan)\"},\n  \"rates\": [";
  for (std::size_t r = 0; r < s.rates.size(); ++r) o << (r ? ", " : "") << s.rates[r];
  o << "],\n  \"curves\": [\n";
  for (std::size_t c = 0; c < curves.size(); ++c) {
    const auto& cv = curves[c];
    o << "    {\"name\": \"" << cv.name << "\", \"site\": \"" << statiq::fault::to_string(cv.where)
      << "\", \"clean_accuracy\": " << cv.clean << ",\n     \"accuracy\": [";
    for (std::size_t r = 0; r < cv.acc.size(); ++r) {
      o << (r ? ",\n                  " : "") << "[";
      for (std::size_t k = 0; k < cv.acc[r].size(); ++k) o << (k ? ", " : "") << cv.acc[r][k];
      o << "]";
    }
    o << "],\n     \"mean\": [";
    for (std::size_t r = 0; r < cv.acc.size(); ++r) o << (r ? ", " : "") << mean_of(cv.acc[r]);
    o << "]}" << (c + 1 < curves.size() ? "," : "") << "\n";
  }
  o << "  ]\n}\n";
  return o.str();
}

// A hand-written SVG, one panel per fault site: log10(rate) on x, accuracy (%) on y; per curve the mean over
// seeds as a line with markers and the min-max over seeds as a translucent band; the clean accuracies as dotted
// lines. Curves with the same name share colour and dash across the panels; one legend on the right.
std::string svg_plot(const settings& s, const std::vector<curve>& curves) {
  const std::size_t panels = s.sites.size();
  const double pw = 480, gap = 60, left = 70, right = 210, top = 58, bottom = 60, ph = 380;
  const double W = left + static_cast<double>(panels) * pw + static_cast<double>(panels - 1) * gap + right;
  const double H = top + ph + bottom;
  const double lx0 = std::floor(std::log10(s.rates.front())), lx1 = std::ceil(std::log10(s.rates.back()));
  const double span = lx1 > lx0 ? lx1 - lx0 : 1.0;
  const auto Y = [&](double acc) { return top + (1.0 - acc) * ph; };
  const auto dashed = [](const curve& cv) {
    return cv.name.find("unprotected") != std::string::npos ? " stroke-dasharray=\"7 4\"" : "";
  };
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(1);
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << ' ' << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << (W - right) / 2 + left / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">Fashion-MNIST CNN "
    << "under bit flips: accuracy on " << s.images << " test images (" << s.seeds << " seeds)</text>\n";
  for (std::size_t p = 0; p < panels; ++p) {
    const double x0 = left + static_cast<double>(p) * (pw + gap);
    const auto X = [&](double rate) { return x0 + (std::log10(rate) - lx0) / span * pw; };
    const bool memory = s.sites[p] == statiq::fault::site::memory;
    o << "<text x=\"" << x0 + pw / 2 << "\" y=\"" << top - 10 << "\" text-anchor=\"middle\" font-size=\"13\">"
      << (memory ? "faults in stored tensors (site memory)" : "faults in operator outputs (site operator_output)")
      << "</text>\n";
    for (int q = 0; q <= 10; ++q) {  // y grid every 10 %
      const double y = Y(q / 10.0);
      o << "<line x1=\"" << x0 << "\" y1=\"" << y << "\" x2=\"" << x0 + pw << "\" y2=\"" << y
        << "\" stroke=\"#e4e4e4\"/>\n<text x=\"" << x0 - 8 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">" << q * 10
        << "</text>\n";
    }
    for (double e = lx0; e <= lx1 + 1e-9; e += 1.0) {  // x grid every decade
      const double x = x0 + (e - lx0) / span * pw;
      o << "<line x1=\"" << x << "\" y1=\"" << top << "\" x2=\"" << x << "\" y2=\"" << top + ph
        << "\" stroke=\"#e4e4e4\"/>\n<text x=\"" << x << "\" y=\"" << top + ph + 18 << "\" text-anchor=\"middle\">1e"
        << static_cast<int>(e) << "</text>\n";
    }
    o << "<rect x=\"" << x0 << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
      << "\" fill=\"none\" stroke=\"black\"/>\n"
      << "<text x=\"" << x0 + pw / 2 << "\" y=\"" << H - 18 << "\" text-anchor=\"middle\">bit-flip rate per bit "
      << "(weights and activations), log scale</text>\n";
    if (p == 0)
      o << "<text transform=\"translate(18 " << top + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">accuracy (%)</text>\n";
    for (const auto& cv : curves) {
      if (cv.where != s.sites[p]) continue;
      std::ostringstream band_hi, band_lo, line;
      band_hi.setf(std::ios::fixed), band_lo.setf(std::ios::fixed), line.setf(std::ios::fixed);
      band_hi.precision(1), band_lo.precision(1), line.precision(1);
      for (std::size_t r = 0; r < s.rates.size(); ++r) {
        const auto [mn, mx] = std::minmax_element(cv.acc[r].begin(), cv.acc[r].end());
        band_hi << X(s.rates[r]) << ',' << Y(*mx) << ' ';
        line << X(s.rates[r]) << ',' << Y(mean_of(cv.acc[r])) << ' ';
        const std::size_t back = s.rates.size() - 1 - r;
        const auto [bn, bx] = std::minmax_element(cv.acc[back].begin(), cv.acc[back].end());
        (void)bx;
        band_lo << X(s.rates[back]) << ',' << Y(*bn) << ' ';
      }
      o << "<polygon points=\"" << band_hi.str() << band_lo.str() << "\" fill=\"" << cv.color
        << "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
        << "<line x1=\"" << x0 << "\" y1=\"" << Y(cv.clean) << "\" x2=\"" << x0 + pw << "\" y2=\"" << Y(cv.clean)
        << "\" stroke=\"" << cv.color << "\" stroke-dasharray=\"2 4\" stroke-opacity=\"0.7\"/>\n"
        << "<polyline points=\"" << line.str() << "\" fill=\"none\" stroke=\"" << cv.color << "\" stroke-width=\"2\""
        << dashed(cv) << "/>\n";
      for (std::size_t r = 0; r < s.rates.size(); ++r)
        o << "<circle cx=\"" << X(s.rates[r]) << "\" cy=\"" << Y(mean_of(cv.acc[r])) << "\" r=\"3\" fill=\"" << cv.color
          << "\"/>\n";
    }
  }
  const double lx = W - right + 15;
  std::size_t row = 0;
  for (const auto& cv : curves) {
    if (cv.where != s.sites.front()) continue;  // the same four names in every panel
    const double ly = top + 20 + 22.0 * static_cast<double>(row++);
    o << "<line x1=\"" << lx << "\" y1=\"" << ly << "\" x2=\"" << lx + 30 << "\" y2=\"" << ly << "\" stroke=\""
      << cv.color << "\" stroke-width=\"2\"" << dashed(cv) << "/>\n"
      << "<text x=\"" << lx + 37 << "\" y=\"" << ly + 4 << "\">" << cv.name << "</text>\n";
  }
  const double ny = top + 20 + 22.0 * static_cast<double>(row) + 10;
  o << "<text x=\"" << lx << "\" y=\"" << ny << "\" font-size=\"11\">line: mean over seeds</text>\n"
    << "<text x=\"" << lx << "\" y=\"" << ny + 16 << "\" font-size=\"11\">band: min to max</text>\n"
    << "<text x=\"" << lx << "\" y=\"" << ny + 32 << "\" font-size=\"11\">dotted: fault-free</text>\n"
    << "</svg>\n";
  return o.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error(path + ": cannot write");
}

std::vector<double> parse_rates(const std::string& list) {
  std::vector<double> r;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(v >= 0.0 && v <= 1.0))
      throw std::invalid_argument("--rates: '" + item + "' is not a probability in [0, 1]");
    r.push_back(v);
  }
  if (r.empty()) throw std::invalid_argument("--rates: no rate given");
  std::sort(r.begin(), r.end());
  if (r.front() <= 0.0) throw std::invalid_argument("--rates: rates are plotted on a log axis; give rates > 0");
  return r;
}

std::size_t parse_count(const char* flag, const std::string& v) {
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n == 0) throw std::invalid_argument(std::string(flag) + ": '" + v + "' is not a positive count");
  return static_cast<std::size_t>(n);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: %s train-images train-labels test-images test-labels [--images N] [--seeds K]\n"
                 "          [--rates r1,r2,...] [--json out.json] [--svg out.svg] [--faults both|weights|activations]\n"
                 "          [--site memory|operator_output|both]\n"
                 "          (uncompressed idx files)\n",
                 argv[0]);
    return 2;
  }
  try {
    settings s;
    for (int i = 5; i < argc; ++i) {
      const std::string flag = argv[i];
      if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
      const std::string v = argv[++i];
      if (flag == "--images") s.images = parse_count("--images", v);
      else if (flag == "--seeds") s.seeds = parse_count("--seeds", v);
      else if (flag == "--rates") s.rates = parse_rates(v);
      else if (flag == "--json") s.json = v;
      else if (flag == "--svg") s.svg = v;
      else if (flag == "--faults" && (v == "both" || v == "weights" || v == "activations"))
        s.weights = v != "activations", s.activations = v != "weights";
      else if (flag == "--site" && v == "memory") s.sites = {statiq::fault::site::memory};
      else if (flag == "--site" && v == "operator_output") s.sites = {statiq::fault::site::operator_output};
      else if (flag == "--site" && v == "both") s.sites = settings{}.sites;
      else throw std::invalid_argument("unknown option " + flag);
    }
    const auto calib = statiq_examples::load_fashion_mnist(argv[1], argv[2], 300);
    const auto test = statiq_examples::load_fashion_mnist(argv[3], argv[4], s.images);
    s.images = test.count;

    // Calibration as in the fmnist example (POT's mixed preset); protection takes each activation's min and
    // max from the same statistics; the INT8 models quantize with the same ranges.
    statiq::calibration_options copt;
    copt.mode = statiq::preset::mixed;
    copt.progress = false;
    const auto stats =
        statiq::calibrate(model_ns::model, statiq::sample_view_for<decltype(model_ns::model)>(calib.images), copt);
    const auto ranges = statiq::ranges_of(stats);
    static const auto fp = model_ns::model | statiq::protect(stats);
    static const auto q8 = model_ns::model | statiq::quantize(ranges);
    static const auto q8p = model_ns::model | (statiq::protect(stats) | statiq::quantize(ranges));

    constexpr auto memory = statiq::fault::site::memory;
    const std::vector<curve> models{{"float unprotected", "#d62728", memory, 0, {}},
                                    {"float protected", "#1f77b4", memory, 0, {}},
                                    {"int8 unprotected", "#ff7f0e", memory, 0, {}},
                                    {"int8 protected", "#2ca02c", memory, 0, {}}};
    std::vector<curve> curves;  // [site][model]
    for (statiq::fault::site where : s.sites)
      for (curve c : models) {
        c.where = where;
        curves.push_back(c);
      }
    const auto measure = [&](curve& cv, const auto& m) {
      cv.clean = accuracy_under_faults(m, test, s.images, {.where = cv.where});
      for (double rate : s.rates) {
        std::vector<double> per_seed;
        for (std::size_t seed = 1; seed <= s.seeds; ++seed)
          per_seed.push_back(accuracy_under_faults(m, test, s.images,
                                                   {.weight_rate = s.weights ? rate : 0.0,
                                                    .activation_rate = s.activations ? rate : 0.0,
                                                    .seed = seed,
                                                    .where = cv.where}));
        cv.acc.push_back(per_seed);
      }
    };
    const auto measure_site = [&](std::size_t p) {
      curve* c = curves.data() + 4 * p;
      measure(c[0], model_ns::model);
      measure(c[1], fp);
      measure(c[2], q8);
      measure(c[3], q8p);
    };
    const char* what = s.weights && s.activations ? "weights and activations" : s.weights ? "weights" : "activations";
    std::printf("Fashion-MNIST CNN '%s': %zu test images, %zu seeds, bit flips in %s\n", STATIQ_EXAMPLE_NAME_STRING,
                s.images, s.seeds, what);
    const auto t0 = std::chrono::steady_clock::now();
    {
      // One thread per site (each run is single-threaded and deterministic; the threads share only const data).
      std::vector<std::exception_ptr> errors(s.sites.size());
      std::vector<std::thread> threads;
      for (std::size_t p = 0; p < s.sites.size(); ++p)
        threads.emplace_back([&, p] {
          try {
            measure_site(p);
          } catch (...) {
            errors[p] = std::current_exception();
          }
        });
      for (auto& t : threads) t.join();
      for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    for (std::size_t p = 0; p < s.sites.size(); ++p) {
      const curve* c = curves.data() + 4 * p;
      std::printf("\nsite %s: accuracy %% (mean over seeds, [min, max])\n%-10s", statiq::fault::to_string(s.sites[p]),
                  "rate");
      for (std::size_t k = 0; k < 4; ++k) std::printf(" | %-24s", c[k].name.c_str());
      std::printf("\n%-10s", "0 (clean)");
      for (std::size_t k = 0; k < 4; ++k) std::printf(" | %-24.2f", 100 * c[k].clean);
      std::printf("\n");
      for (std::size_t r = 0; r < s.rates.size(); ++r) {
        std::printf("%-10.0e", s.rates[r]);
        for (std::size_t k = 0; k < 4; ++k) {
          const auto [mn, mx] = std::minmax_element(c[k].acc[r].begin(), c[k].acc[r].end());
          char cell[64];
          std::snprintf(cell, sizeof cell, "%.2f [%.2f, %.2f]", 100 * mean_of(c[k].acc[r]), 100 * *mn, 100 * *mx);
          std::printf(" | %-24s", cell);
        }
        std::printf("\n");
      }
      std::printf("(sd over seeds, percentage points:");
      for (std::size_t k = 0; k < 4; ++k) {
        double worst = 0;
        for (const auto& a : c[k].acc) worst = std::max(worst, sd_of(a));
        std::printf(" %s <= %.2f;", c[k].name.c_str(), 100 * worst);
      }
      std::printf(")\n");
    }
    std::printf("measured in %.0f s\n", secs);

    write_file(s.json, json_table(s, curves));
    write_file(s.svg, svg_plot(s, curves));
    std::printf("wrote %s and %s\n", s.json.c_str(), s.svg.c_str());

    // The unfused plan computes what the fused one does: clean accuracies agree across sites too.
    for (std::size_t p = 0; p < s.sites.size(); ++p) {
      const curve* c = curves.data() + 4 * p;
      if (c[1].clean != c[0].clean || c[3].clean != c[2].clean || c[0].clean != curves[0].clean ||
          c[2].clean != curves[2].clean) {
        std::fprintf(stderr, "ranger: clean accuracy differs (site %s: float %.4f -> %.4f, int8 %.4f -> %.4f)\n",
                     statiq::fault::to_string(s.sites[p]), c[0].clean, c[1].clean, c[2].clean, c[3].clean);
        return 1;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ranger: %s\n", e.what());
    return 1;
  }
  return 0;
}
