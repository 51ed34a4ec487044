// A one-line progress bar on stderr for calibrations that take a while; silent unless stderr is a terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>

#if __has_include(<unistd.h>)
#include <unistd.h>
#define STATIQ_CALIBRATE_HAS_ISATTY 1
#else
#define STATIQ_CALIBRATE_HAS_ISATTY 0
#endif

namespace statiq::detail {

class progress_bar {
 public:
  progress_bar(bool wanted, std::size_t total) : total_(total), start_(clock::now()) {
#if STATIQ_CALIBRATE_HAS_ISATTY
    enabled_ = wanted && total > 0 && isatty(fileno(stderr));
#else
    (void)wanted;
#endif
  }
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;
  ~progress_bar() {
    if (drawn_) std::fputc('\n', stderr);
  }

  // Redraws at most once per percent; the first draw waits `quiet` so short calibrations print nothing.
  void update(std::size_t done) {
    if (!enabled_) return;
    const auto elapsed = std::chrono::duration<double>(clock::now() - start_).count();
    if (!drawn_ && elapsed < quiet && done < total_) return;
    const std::size_t percent = done * 100 / total_;
    if (drawn_ && percent == last_percent_ && done < total_) return;
    last_percent_ = percent;
    drawn_ = true;
    constexpr std::size_t width = 30;
    char bar[width + 1];
    const std::size_t filled = done * width / total_;
    for (std::size_t i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
    std::fprintf(stderr, "\rstatiq::calibrate [%s] %zu/%zu samples, %.1f s, %.1f s left ", bar, done, total_,
                 elapsed, eta);
    std::fflush(stderr);
  }

 private:
  using clock = std::chrono::steady_clock;
  static constexpr double quiet = 0.5;  // seconds
  std::size_t total_;
  clock::time_point start_;
  bool enabled_ = false;
  bool drawn_ = false;
  std::size_t last_percent_ = 0;
};

}  // namespace statiq::detail
