// A small persistent thread pool for the kernels. ParallelFor splits a range into one contiguous
// chunk per thread (the caller runs chunk 0) and never allocates; workers spin briefly before
// sleeping so back-to-back layers do not pay a wake-up each.
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

  // Calls fn(begin, end, thread_index) over [0, n) split into at most NumThreads() chunks whose
  // sizes are multiples of `grain` (except the last). Returns when all chunks are done.
  // Not reentrant: one ParallelFor at a time per pool.
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
  void RunChunk(int chunk);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;
  // The current job; written by Run before generation_ is bumped.
  Task task_ = nullptr;
  const void* ctx_ = nullptr;
  std::int64_t n_ = 0, chunk_size_ = 0;
  int chunks_ = 0;
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
