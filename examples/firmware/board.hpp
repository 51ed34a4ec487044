// The emulated board (QEMU's mps2-an386: Arm MPS2 with the AN386 FPGA image, a Cortex-M4 with FPU): its
// memories, its free-running timer, and output and exit through Arm semihosting (BKPT 0xAB).
#pragma once

#include <cstddef>
#include <cstdint>

namespace board {

// AN386 memory map (as QEMU models it): 4 MiB ZBT SSRAM1 at 0x00000000 holds code and read-only data (the
// "flash" of this board), 4 MiB ZBT SSRAM2/3 at 0x20000000 holds data, the arena and the stack. The linker
// script (mps2_an386.ld) states the same two regions.
inline constexpr std::size_t flash_bytes = 4u << 20;
inline constexpr std::size_t ram_bytes = 4u << 20;
// The stack the linker script reserves (at the bottom of RAM). The kernels' frames are not part of the arena:
// measured 25 KiB with arm-none-eabi-g++ (HWY_SCALAR) and 36 KiB with clang (HWY_EMU128), most of it the int8
// convolution's im2col tile.
inline constexpr std::size_t stack_bytes = 64u << 10;
inline constexpr std::size_t stack_guard_bytes = 32u << 10;  // below the stack: written only by an overflow

// CMSDK APB timer 0: a 32-bit down-counter clocked by the 25 MHz system clock.
inline constexpr std::uint32_t sysclk_hz = 25'000'000;
struct cmsdk_timer {
  volatile std::uint32_t ctrl, value, reload, intstatus;
};
inline cmsdk_timer& timer0() { return *reinterpret_cast<cmsdk_timer*>(0x40000000u); }
inline void timer_start() {
  timer0().ctrl = 0;
  timer0().reload = 0xFFFFFFFFu;
  timer0().value = 0xFFFFFFFFu;
  timer0().ctrl = 1;  // enable, no interrupt
}
inline std::uint32_t timer_ticks() { return 0xFFFFFFFFu - timer0().value; }  // ticks since timer_start()

// Executes 2n instructions (subs and bne per iteration): a known count to check what a timer tick measures.
inline void spin(std::uint32_t n) { asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n) : : "cc"); }

// Bytes of the stack ever used: start-up fills the stack and its guard band with a pattern; this finds the
// deepest overwrite. More than stack_reserved() is an overflow into the guard band.
std::size_t stack_used();
std::size_t stack_reserved();  // the stack's size as linked (__stack_size__ in the linker script)

// Semihosting: r0 = operation, r1 = argument block; the debugger (QEMU's -semihosting) does the work.
inline int semihost(int op, const void* arg) {
  register int r0 asm("r0") = op;
  register const void* r1 asm("r1") = arg;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}
inline void write(const char* text) { semihost(0x04, text); }  // SYS_WRITE0: a NUL-terminated string
[[noreturn]] inline void exit(int code) {
  // SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit: QEMU exits with `code`.
  const std::uint32_t block[2] = {0x20026u, static_cast<std::uint32_t>(code)};
  semihost(0x20, block);
  for (;;) {
  }
}

// An unsigned number that a line prints in hexadecimal.
struct hex {
  std::uint32_t value;
};

// A line of text built without the C library's formatted output (which would bring in the heap).
class line {
 public:
  line& operator<<(const char* s) {
    while (*s != '\0' && n_ < cap) buf_[n_++] = *s++;
    return *this;
  }
  line& operator<<(unsigned long long v) {
    char digits[24];
    int k = 0;
    do {
      digits[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (k > 0 && n_ < cap) buf_[n_++] = digits[--k];
    return *this;
  }
  line& operator<<(unsigned long v) { return *this << static_cast<unsigned long long>(v); }
  line& operator<<(unsigned v) { return *this << static_cast<unsigned long long>(v); }
  line& operator<<(hex h) {
    for (int shift = 28; shift >= 0 && n_ < cap; shift -= 4) buf_[n_++] = "0123456789abcdef"[(h.value >> shift) & 0xF];
    return *this;
  }
  line& operator<<(int v) {
    if (v < 0) *this << "-";
    return *this << static_cast<unsigned long long>(v < 0 ? -static_cast<long long>(v) : v);
  }
  ~line() {
    buf_[n_++] = '\n';
    buf_[n_] = '\0';
    write(buf_);
  }

 private:
  static constexpr std::size_t cap = 158;  // room left for the newline and the NUL
  char buf_[cap + 2];
  std::size_t n_ = 0;
};

}  // namespace board
