// The one translation unit that instantiates statiq's dynamic dispatch: every kernel for every target.
// Compile it with the oldest CPU you support as baseline (no -march=native); the rest of the program may
// use any flags. No libhwy is needed at link or run time.
#define STATIQ_DYNAMIC_DISPATCH_IMPLEMENTATION
#include <statiq/kernels/dynamic.hpp>
