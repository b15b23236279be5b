// lc_benchmark: runs a runtime-ready .tflite model with the larq-compute ops inside LiteRT and
// reports latency, peak memory and the time per custom op. Plain C++17 + dlopen, no Python, so it
// also runs on ARM64 boards (or under qemu) next to the aarch64 libLiteRt.so.
//
//   lc_benchmark MODEL.tflite [--threads N] [--runs N] [--warmup N] [--litert PATH/libLiteRt.so]
//
// The model must be prepared for the runtime (python -m larq_compute.runtime_prepare IN OUT).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "runtime/ops/model_runner.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: lc_benchmark MODEL.tflite [--threads N] [--runs N] [--warmup N] "
               "[--litert PATH]\n");
  return 2;
}

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

void FillRandom(void* data, std::size_t bytes, int element_type, std::mt19937* rng) {
  if (element_type == 1) {  // float32
    std::normal_distribution<float> normal;
    auto* f = static_cast<float*>(data);
    for (std::size_t i = 0; i < bytes / 4; ++i) f[i] = normal(*rng);
  } else {
    auto* b = static_cast<unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) b[i] = static_cast<unsigned char>((*rng)());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string model_path = argv[1];
  lc::runtime::RunnerOptions options;
  int runs = 50, warmup = 5;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* value = argv[++i];
    if (arg == "--threads") {
      options.num_threads = std::atoi(value);
    } else if (arg == "--runs") {
      runs = std::atoi(value);
    } else if (arg == "--warmup") {
      warmup = std::atoi(value);
    } else if (arg == "--litert") {
      options.litert_library = value;
    } else {
      return Usage();
    }
  }
  if (runs < 1 || warmup < 0) return Usage();
  std::ifstream file(model_path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "error: cannot read %s\n", model_path.c_str());
    return 1;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
  std::string error;
  auto runner = lc::runtime::ModelRunner::Create(bytes.data(), bytes.size(), options, &error);
  if (!runner) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  std::mt19937 rng(0);
  for (int i = 0; i < runner->NumInputs(); ++i) {
    FillRandom(runner->InputData(i), runner->Input(i).bytes, runner->Input(i).element_type, &rng);
  }
  for (int i = 0; i < warmup; ++i) {
    if (!runner->Invoke(&error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
  }
  runner->ResetOpTimings();
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (!runner->Invoke(&error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double p90 = sorted[std::min(sorted.size() - 1, sorted.size() * 9 / 10)];
  double total_ms = 0;
  for (double t : ms) total_ms += t;
  std::printf("model: %s\nthreads: %d, runs: %d (after %d warm-up)\n", model_path.c_str(),
              options.num_threads, runs, warmup);
  std::printf("latency ms: median %.3f  min %.3f  p90 %.3f\n", median, sorted.front(), p90);
  std::printf("peak memory (RSS): %.1f MiB\n", PeakRssMiB());
  std::printf("%-9s %-22s %12s %8s\n", "nodes", "op", "ms/invoke", "share");
  double timed_ms = 0;
  for (const auto& t : runner->OpTimings()) {
    const double per_invoke = t.total_us / 1000.0 / runs;
    timed_ms += per_invoke;
    const std::string nodes = t.first_node == t.last_node
                                  ? std::to_string(t.first_node)
                                  : std::to_string(t.first_node) + "-" + std::to_string(t.last_node);
    std::printf("%-9s %-22s %12.3f %7.1f%%\n", nodes.c_str(),
                t.name.empty() ? "(builtin ops)" : t.name.c_str(), per_invoke,
                100.0 * per_invoke * runs / total_ms);
  }
  const double rest = total_ms / runs - timed_ms;
  std::printf("%-9s %-22s %12.3f %7.1f%%\n", "-", "LiteRT (rest)", rest,
              100.0 * rest * runs / total_ms);
  return 0;
}
