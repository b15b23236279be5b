#include "runtime/ops/litert_c_api.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace lc::litert {
namespace {

// Round-trips a tensor type through the library: a layout or enum mismatch between our
// declarations and the loaded library shows up here, not as memory corruption later.
bool ProbeLayouts(const LiteRtApi& api, std::string* error) {
  LiteRtRankedTensorType type{};
  type.element_type = kLiteRtElementTypeInt32;
  type.layout.rank = 3;
  type.layout.dimensions[0] = 2;
  type.layout.dimensions[1] = 3;
  type.layout.dimensions[2] = 5;
  constexpr std::size_t kBytes = 2 * 3 * 5 * sizeof(std::int32_t);
  void* memory = std::aligned_alloc(kHostMemoryAlignment, 128);
  LiteRtTensorBuffer buffer = nullptr;
  LiteRtStatus status =
      api.LiteRtCreateTensorBufferFromHostMemory(&type, memory, 128, nullptr, &buffer);
  bool ok = status == kLiteRtStatusOk;
  if (!ok) {
    *error = "self-check: LiteRtCreateTensorBufferFromHostMemory failed with status " +
             std::to_string(status);
  }
  if (ok) {
    LiteRtRankedTensorType back{};
    std::size_t packed = 0;
    void* locked = nullptr;
    ok = api.LiteRtGetTensorBufferTensorType(buffer, &back) == kLiteRtStatusOk &&
         api.LiteRtGetTensorBufferPackedSize(buffer, &packed) == kLiteRtStatusOk &&
         api.LiteRtLockTensorBuffer(buffer, &locked, kLiteRtTensorBufferLockModeRead) ==
             kLiteRtStatusOk;
    if (locked) api.LiteRtUnlockTensorBuffer(buffer);
    if (!ok) {
      *error = "self-check: tensor buffer queries failed";
    } else if (back.element_type != type.element_type || back.layout.rank != 3 ||
               back.layout.dimensions[0] != 2 || back.layout.dimensions[1] != 3 ||
               back.layout.dimensions[2] != 5 || packed != kBytes || locked != memory) {
      ok = false;
      *error = "self-check: LiteRtRankedTensorType/LiteRtLayout declared in "
               "runtime/ops/litert_c_api.h do not match the loaded library (round-trip gave type " +
               std::to_string(back.element_type) + ", rank " + std::to_string(back.layout.rank) +
               ", packed size " + std::to_string(packed) + " instead of 2, 3, " +
               std::to_string(kBytes) + ")";
    }
    api.LiteRtDestroyTensorBuffer(buffer);
  }
  std::free(memory);
  return ok;
}

const LiteRtApi* Load(const std::string& requested_path, std::string* error) {
  std::string path = requested_path;
  if (path.empty()) {
    const char* env = std::getenv("LARQ_COMPUTE_LITERT_LIB");
    path = env && *env ? env : "libLiteRt.so";
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    *error = "cannot load LiteRT from '" + path + "': " + dlerror();
    return nullptr;
  }
  auto* api = new LiteRtApi;
  api->library_path = path;
  std::vector<std::string> missing;
#define LC_LITERT_RESOLVE(name, ret, params)                                            \
  api->name = reinterpret_cast<ret(*) params>(dlvsym(handle, #name, kLiteRtSymbolVersion)); \
  if (!api->name) missing.push_back(#name);
  LC_LITERT_FUNCTIONS(LC_LITERT_RESOLVE)
#undef LC_LITERT_RESOLVE
  if (!missing.empty()) {
    std::string names;
    for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
    *error = "self-check: '" + path + "' lacks these LiteRT C API functions with symbol version " +
             kLiteRtSymbolVersion + ": " + names +
             ". larq_compute is built for ai-edge-litert==2.3.0.";
    delete api;
    dlclose(handle);
    return nullptr;
  }
  if (!ProbeLayouts(*api, error)) {
    delete api;
    dlclose(handle);
    return nullptr;
  }
  return api;  // The library stays loaded for the life of the process.
}

}  // namespace

const LiteRtApi* LoadLiteRtApi(const std::string& library_path, std::string* error) {
  static std::mutex mutex;
  static const LiteRtApi* loaded = nullptr;
  static std::string load_error;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) {
    loaded = Load(library_path, &load_error);
    if (!loaded) {
      *error = load_error;
      return nullptr;
    }
  } else if (!library_path.empty() && library_path != loaded->library_path) {
    // One LiteRT per process: a second copy would have its own global state.
    *error = "LiteRT is already loaded from '" + loaded->library_path + "', cannot also load '" +
             library_path + "'";
    return nullptr;
  }
  return loaded;
}

std::string StatusText(LiteRtStatus status) {
  const char* name = "error";
  switch (status) {
    case 0: name = "ok"; break;
    case 1: name = "invalid argument"; break;
    case 2: name = "memory allocation failure"; break;
    case 3: name = "runtime failure"; break;
    case 4: name = "missing input tensor"; break;
    case 5: name = "unsupported"; break;
    case 6: name = "not found"; break;
    case 500: name = "file I/O"; break;
    case 501: name = "invalid flatbuffer"; break;
    case 504: name = "compilation"; break;
  }
  return std::to_string(status) + " (" + name + ")";
}

}  // namespace lc::litert
