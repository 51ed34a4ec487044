// Links the firmware's start-up with a call to malloc: the link must fail (the linker script rejects the heap).
// The firmware tests build this target and expect the failure and its message.
#include <cstdlib>

int main() {
  void* volatile p = std::malloc(16);
  return p != nullptr ? 0 : 1;
}
