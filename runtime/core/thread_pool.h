// A small persistent thread pool for the kernels. ParallelFor cuts a range into pieces that the
// caller and the workers take from a shared counter, so a worker the OS has not scheduled yet
// (a busy machine) never holds the call up: the caller simply does more pieces. No allocation
// per call; workers spin briefly before sleeping so back-to-back layers skip the wake-up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace lc {

class ThreadPool {
 public:
  // num_threads counts the calling thread: 1 means no worker threads.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int NumThreads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end, thread_index) over disjoint pieces covering [0, n); piece sizes are
  // multiples of `grain` (except the last); thread_index < NumThreads() (0 = the caller).
  // Returns when every piece is done. One ParallelFor at a time per pool.
  template <typename Fn>
  void ParallelFor(std::int64_t n, std::int64_t grain, const Fn& fn) {
    Run(n, grain, [](const void* ctx, std::int64_t b, std::int64_t e, int t) {
      (*static_cast<const Fn*>(ctx))(b, e, t);
    }, &fn);
  }

 private:
  using Task = void (*)(const void* ctx, std::int64_t begin, std::int64_t end, int thread_index);
  void Run(std::int64_t n, std::int64_t grain, Task task, const void* ctx);
  void WorkerLoop(int thread_index);
  void TakePieces(int thread_index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};
  bool stop_ = false;  // guarded by mutex_
  // The current job. Written by the caller only while no worker is active (active_ == 0) and
  // published by the seq_cst store closed_ = false.
  Task task_ = nullptr;
  const void* ctx_ = nullptr;
  std::int64_t n_ = 0, piece_size_ = 0, pieces_ = 0;
  std::atomic<std::int64_t> next_piece_{0};
  std::atomic<bool> closed_{true};
  std::atomic<int> active_{0};  // workers between joining the job and leaving it
};

// Runs fn over [0, n) on `pool`, or inline on the caller when pool is null.
template <typename Fn>
void ParallelFor(ThreadPool* pool, std::int64_t n, std::int64_t grain, const Fn& fn) {
  if (pool == nullptr || pool->NumThreads() == 1 || n <= grain) {
    if (n > 0) fn(0, n, 0);
  } else {
    pool->ParallelFor(n, grain, fn);
  }
}

}  // namespace lc
