// The two-thread benchmarks' second thread: one spinning worker (see SpinUntil) that runs a job's half while the
// calling thread runs the other.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

namespace statiq_bench {

// Waits until done() holds: spinning (a pause per check) for about 20 us, then yielding each check, so an
// oversubscribed machine still makes progress. Yielding from the first check cost the 1x512x784 GEMV's two
// threads about a microsecond a call (a sched_yield between checks), a third of its 3 us.
template <class Done>
void SpinUntil(const Done& done) {
  for (int i = 0; i < (1 << 14); ++i) {
    if (done()) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
  }
  while (!done()) std::this_thread::yield();
}

// One spinning worker thread (see SpinUntil): a wake-up costs well under a microsecond, a condition variable
// tens. Lives only while a two-thread benchmark runs.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    stop_.store(true);
    go_.fetch_add(1);
    thread_.join();
  }
  // runs a(1) on the worker thread and a(0) here, returns when both are done
  void Run(const std::function<void(int)>& a) {
    job_ = &a;
    done_.store(false, std::memory_order_relaxed);
    go_.fetch_add(1, std::memory_order_release);
    a(0);
    SpinUntil([this] { return done_.load(std::memory_order_acquire); });
  }

 private:
  void Loop() {
    std::uint64_t seen = 0;
    for (;;) {
      SpinUntil([&] { return go_.load(std::memory_order_acquire) != seen; });
      ++seen;
      if (stop_.load()) return;
      (*job_)(1);
      done_.store(true, std::memory_order_release);
    }
  }
  std::atomic<std::uint64_t> go_{0};
  std::atomic<bool> done_{false}, stop_{false};
  const std::function<void(int)>* job_ = nullptr;
  std::thread thread_;
};

}  // namespace statiq_bench
