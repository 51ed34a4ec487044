// Start-up for the Cortex-M4 of mps2-an386: the vector table, the reset handler (FPU on, .data copied from
// flash, .bss zeroed, constructors run, main's result as the semihosting exit code), fault handlers that
// report and exit, and the one Highway symbol the header-only kernels can reference.
#include <cstdint>

#include <hwy/base.h>

#include "board.hpp"

extern "C" {
extern std::uint32_t __data_load__[], __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];
extern std::uint32_t __stack_guard__[], __stack_bottom__[], __stack_top__[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
int main();

constexpr std::uint32_t stack_paint = 0x57AC4F11u;

[[noreturn]] void statiq_firmware_start() {
  volatile std::uint32_t* sp;
  asm volatile("mov %0, sp" : "=r"(sp));
  for (volatile std::uint32_t* p = __stack_guard__; p < sp - 16; ++p) *p = stack_paint;
  for (std::uint32_t *src = __data_load__, *dst = __data_start__; dst < __data_end__;) *dst++ = *src++;
  for (std::uint32_t* dst = __bss_start__; dst < __bss_end__;) *dst++ = 0;
  for (auto f = __init_array_start; f < __init_array_end; ++f) (*f)();
  board::exit(main());
}

// Grants full access to the FPU (CPACR CP10/CP11) before any code that may use a floating-point register.
[[noreturn, gnu::naked]] void Reset_Handler() {
  asm volatile(
      "ldr r0, =0xE000ED88\n"
      "ldr r1, [r0]\n"
      "orr r1, r1, #(0xF << 20)\n"
      "str r1, [r0]\n"
      "dsb\n"
      "isb\n"
      "b statiq_firmware_start\n");
}

// Reports the exception, its fault status (CFSR, HFSR, BFAR) and the stacked PC and LR, then exits with code 3.
[[noreturn]] void statiq_firmware_fault(const std::uint32_t* frame) {
  const auto reg = [](std::uint32_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); };
  std::uint32_t ipsr;
  asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  board::line() << "firmware: exception " << static_cast<unsigned>(ipsr & 0x1FF) << " at pc 0x" << board::hex{frame[6]}
                << ", lr 0x" << board::hex{frame[5]} << " (CFSR 0x" << board::hex{reg(0xE000ED28)} << ", HFSR 0x"
                << board::hex{reg(0xE000ED2C)} << ", BFAR 0x" << board::hex{reg(0xE000ED38)} << ")";
  board::exit(3);
}
[[noreturn, gnu::naked]] void Fault_Handler() {
  asm volatile(
      "tst lr, #4\n"
      "ite eq\n"
      "mrseq r0, msp\n"
      "mrsne r0, psp\n"
      "b statiq_firmware_fault\n");
}

using handler = void (*)();
[[gnu::section(".vectors"), gnu::used]] const handler vectors[16] = {
    reinterpret_cast<handler>(__stack_top__),  // initial stack pointer
    Reset_Handler,
    Fault_Handler,  // NMI
    Fault_Handler,  // HardFault
    Fault_Handler,  // MemManage
    Fault_Handler,  // BusFault
    Fault_Handler,  // UsageFault
    nullptr, nullptr, nullptr, nullptr,
    Fault_Handler,  // SVCall
    Fault_Handler,  // DebugMonitor
    nullptr,
    Fault_Handler,  // PendSV
    Fault_Handler,  // SysTick
};
}  // extern "C"

std::size_t board::stack_used() {
  const std::uint32_t* p = __stack_guard__;
  while (p < __stack_top__ && *p == stack_paint) ++p;
  return static_cast<std::size_t>(__stack_top__ - p) * sizeof(std::uint32_t);
}

std::size_t board::stack_reserved() {
  return static_cast<std::size_t>(__stack_top__ - __stack_bottom__) * sizeof(std::uint32_t);
}

// Highway's assertion handler (libhwy is not linked on this target).
namespace hwy {
HWY_NORETURN void Abort(const char* file, int line, const char* format, ...) {
  board::line() << "firmware: Highway abort at " << file << ":" << line << ": " << format;
  board::exit(4);
}
}  // namespace hwy
