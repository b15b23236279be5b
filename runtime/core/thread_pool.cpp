#include "runtime/core/thread_pool.h"

#include <algorithm>

namespace lc {
namespace {
// About 50-100 us of spinning (pause is ~40-140 cycles): longer than the gap between two layers,
// shorter than a time slice.
constexpr int kSpinIterations = 2000;
// Pieces per thread: enough to rebalance when a thread is descheduled, few enough to keep each
// piece's data reuse.
constexpr int kPiecesPerThread = 8;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  const int workers = std::max(1, num_threads) - 1;
  workers_.reserve(workers);
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { WorkerLoop(i + 1); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::TakePieces(int thread_index) {
  for (std::int64_t piece = next_piece_.fetch_add(1); piece < pieces_;
       piece = next_piece_.fetch_add(1)) {
    const std::int64_t begin = piece * piece_size_;
    task_(ctx_, begin, std::min(n_, begin + piece_size_), thread_index);
  }
}

void ThreadPool::Run(std::int64_t n, std::int64_t grain, Task task, const void* ctx) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(1, grain);
  const std::int64_t grains = (n + grain - 1) / grain;
  const std::int64_t pieces = std::min<std::int64_t>(grains, std::int64_t{kPiecesPerThread} * NumThreads());
  task_ = task;
  ctx_ = ctx;
  n_ = n;
  piece_size_ = (grains + pieces - 1) / pieces * grain;
  pieces_ = (n + piece_size_ - 1) / piece_size_;
  next_piece_.store(0);
  closed_.store(false);  // seq_cst: publishes the job
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  TakePieces(0);
  // Workers that joined before the close finish their pieces; later ones see closed_ and leave
  // without touching the job (seq_cst orders their active_++ / closed_ load against ours).
  closed_.store(true);
  // Spin briefly, then yield: a worker still in a piece may be waiting for this very core.
  for (int i = 0; active_.load() != 0; ++i) {
    if (i < kSpinIterations) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::WorkerLoop(int thread_index) {
  std::uint64_t seen = 0;
  while (true) {
    for (int i = 0; i < kSpinIterations && generation_.load(std::memory_order_acquire) == seen; ++i) {
      CpuRelax();
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      if (stop_) return;
      seen = generation_.load();
    }
    active_.fetch_add(1);
    if (!closed_.load()) TakePieces(thread_index);
    active_.fetch_sub(1);
  }
}

}  // namespace lc
