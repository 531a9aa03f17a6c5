// Only in the fail-loud test's build (GN_FUZZ_PLANT): the real libFuzzer entry point, in front of
// the target's own (renamed to gn_fuzz_target_input). Each planted input is one way a target can
// fail, and .ci/fuzz must exit non-zero on every one of them.
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern "C" int gn_fuzz_target_input(const uint8_t* data, size_t size);

namespace {
char* volatile leak_sink;
volatile int int_sink;
volatile bool forever = true;

// Inputs are compared by hash: a plain comparison would hand the planted bytes to libFuzzer's
// comparison tracing, and the fuzzer would find them on its own in the control run.
uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}
bool is(std::string_view in, std::string_view planted) { return in.size() == planted.size() && fnv1a(in) == fnv1a(planted); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (is(in, "PLANTED-ABORT")) std::abort();
  if (is(in, "PLANTED-LEAK")) leak_sink = static_cast<char*>(std::malloc(64));  // never freed
  if (is(in, "PLANTED-UB")) {
    volatile int big = INT_MAX;
    int_sink = big + 1;  // signed overflow: UBSan
  }
  if (is(in, "PLANTED-OVERFLOW")) {
    char* p = static_cast<char*>(std::malloc(8));
    std::memset(p, 0, 8);
    volatile size_t nine = 9;
    int_sink = p[nine - 1 + 1];  // one past the end: ASan
    std::free(p);
  }
  if (is(in, "PLANTED-HANG"))
    while (forever) {
    }
  return gn_fuzz_target_input(data, size);
}
