// Every declaration of the LiteRT C ABI the runtime uses, in one place.
//
// The ai-edge-litert wheel ships libLiteRt.so but no C headers, so the types and function
// signatures below are declared here, for the pinned version (ai-edge-litert==2.3.0, symbol
// version VERS_1.0). The library is dlopen'ed at run time (no build-time dependency on the wheel)
// and LoadLiteRtApi() checks it before anything else touches it: every symbol must resolve with
// the expected symbol version, and a probe round-trips a LiteRtRankedTensorType through the
// library to confirm the struct layouts declared here. Any mismatch is a load error naming what
// differs, never a crash later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lc::litert {

// ---- Plain types (layouts as in LiteRT 2.3.0's litert/c headers) ------------------------------

using LiteRtStatus = int;  // 0 = ok; StatusText() names the others
constexpr LiteRtStatus kLiteRtStatusOk = 0;
constexpr LiteRtStatus kLiteRtStatusErrorInvalidArgument = 1;
constexpr LiteRtStatus kLiteRtStatusErrorRuntimeFailure = 3;

using LiteRtParamIndex = std::size_t;

// Opaque handles.
using LiteRtEnvironment = struct LiteRtEnvironmentT*;
using LiteRtModel = struct LiteRtModelT*;
using LiteRtSubgraph = struct LiteRtSubgraphT*;
using LiteRtSignature = struct LiteRtSignatureT*;
using LiteRtOp = struct LiteRtOpT*;
using LiteRtTensor = struct LiteRtTensorT*;
using LiteRtWeights = struct LiteRtWeightsT*;
using LiteRtOptions = struct LiteRtOptionsT*;
using LiteRtOpaqueOptions = struct LiteRtOpaqueOptionsT*;
using LiteRtCompiledModel = struct LiteRtCompiledModelT*;
using LiteRtTensorBuffer = struct LiteRtTensorBufferT*;
struct LiteRtEnvOption;  // never built by us: environments are created without options

constexpr int kLiteRtTensorMaxRank = 8;
constexpr std::size_t kHostMemoryAlignment = 64;  // LITERT_HOST_MEMORY_BUFFER_ALIGNMENT

struct LiteRtLayout {
  unsigned int rank : 7;
  unsigned int has_strides : 1;                   // a bool bit-field upstream, same storage unit
  std::int32_t dimensions[kLiteRtTensorMaxRank];  // < 0 means dynamic
  std::uint32_t strides[kLiteRtTensorMaxRank];    // used only when has_strides
};

// TFLite's TfLiteType values.
enum LiteRtElementType : int {
  kLiteRtElementTypeNone = 0,
  kLiteRtElementTypeFloat32 = 1,
  kLiteRtElementTypeInt32 = 2,
  kLiteRtElementTypeUInt8 = 3,
  kLiteRtElementTypeInt64 = 4,
  kLiteRtElementTypeBool = 6,
  kLiteRtElementTypeInt16 = 7,
  kLiteRtElementTypeInt8 = 9,
  kLiteRtElementTypeFloat16 = 10,
};

struct LiteRtRankedTensorType {
  LiteRtElementType element_type;
  LiteRtLayout layout;
};

enum LiteRtTensorTypeId : int { kLiteRtRankedTensorType = 0, kLiteRtUnrankedTensorType = 1 };

enum LiteRtQuantizationTypeId : int {
  kLiteRtQuantizationNone = 0,
  kLiteRtQuantizationPerTensor = 1,
  kLiteRtQuantizationPerChannel = 2,
};

struct LiteRtQuantizationPerTensor {
  float scale;
  std::int64_t zero_point;
};

enum LiteRtTensorBufferLockMode : int {
  kLiteRtTensorBufferLockModeRead = 0,
  kLiteRtTensorBufferLockModeWrite = 1,
  kLiteRtTensorBufferLockModeReadWrite = 2,
};

constexpr int kLiteRtHwAcceleratorCpu = 1;
constexpr int kLiteRtOpCodeTflCustom = 32;  // TFLite's BuiltinOperator_CUSTOM

// A custom-op kernel: four callbacks sharing one user_data per registration.
struct LiteRtCustomOpKernel {
  LiteRtStatus (*Init)(void* user_data, const void* init_data, std::size_t init_data_size);
  LiteRtStatus (*GetOutputLayouts)(void* user_data, std::size_t num_inputs,
                                   const LiteRtLayout* input_layouts, std::size_t num_outputs,
                                   LiteRtLayout* output_layouts);
  LiteRtStatus (*Run)(void* user_data, std::size_t num_inputs, const LiteRtTensorBuffer* inputs,
                      std::size_t num_outputs, LiteRtTensorBuffer* outputs);
  LiteRtStatus (*Destroy)(void* user_data);
};

// Sizes measured on x86-64 and aarch64 for 2.3.0; the load-time probe checks the rest.
static_assert(sizeof(LiteRtLayout) == 68, "LiteRtLayout must be 68 bytes");
static_assert(offsetof(LiteRtLayout, dimensions) == 4, "LiteRtLayout dimensions offset");
static_assert(sizeof(void*) != 8 || sizeof(LiteRtRankedTensorType) == 72,
              "LiteRtRankedTensorType must be 72 bytes on 64-bit targets");
static_assert(sizeof(void*) != 8 || sizeof(LiteRtCustomOpKernel) == 32,
              "LiteRtCustomOpKernel must be 32 bytes on 64-bit targets");
static_assert(sizeof(LiteRtQuantizationPerTensor) == 16, "LiteRtQuantizationPerTensor size");
static_assert(offsetof(LiteRtRankedTensorType, layout) == 4, "LiteRtRankedTensorType layout");

// ---- Functions --------------------------------------------------------------------------------

// X(name, return type, parameter list). The table is the single list of functions we use.
#define LC_LITERT_FUNCTIONS(X)                                                                    \
  X(LiteRtCreateEnvironment, LiteRtStatus, (int, const LiteRtEnvOption*, LiteRtEnvironment*))     \
  X(LiteRtDestroyEnvironment, void, (LiteRtEnvironment))                                          \
  /* 2.2+: the environment is the first argument (it was not in 2.1). */                          \
  X(LiteRtCreateModelFromBuffer, LiteRtStatus,                                                    \
    (LiteRtEnvironment, const void*, std::size_t, LiteRtModel*))                                  \
  X(LiteRtDestroyModel, void, (LiteRtModel))                                                      \
  X(LiteRtGetNumModelSubgraphs, LiteRtStatus, (LiteRtModel, LiteRtParamIndex*))                   \
  X(LiteRtGetModelSubgraph, LiteRtStatus, (LiteRtModel, LiteRtParamIndex, LiteRtSubgraph*))       \
  X(LiteRtGetNumModelSignatures, LiteRtStatus, (LiteRtModel, LiteRtParamIndex*))                  \
  X(LiteRtGetModelSignature, LiteRtStatus, (LiteRtModel, LiteRtParamIndex, LiteRtSignature*))     \
  X(LiteRtGetSignatureSubgraph, LiteRtStatus, (LiteRtSignature, LiteRtSubgraph*))                 \
  X(LiteRtGetNumSignatureInputs, LiteRtStatus, (LiteRtSignature, LiteRtParamIndex*))              \
  X(LiteRtGetSignatureInputName, LiteRtStatus, (LiteRtSignature, LiteRtParamIndex, const char**)) \
  X(LiteRtGetSignatureInputTensorByIndex, LiteRtStatus,                                           \
    (LiteRtSignature, LiteRtParamIndex, LiteRtTensor*))                                           \
  X(LiteRtGetNumSignatureOutputs, LiteRtStatus, (LiteRtSignature, LiteRtParamIndex*))             \
  X(LiteRtGetSignatureOutputName, LiteRtStatus,                                                   \
    (LiteRtSignature, LiteRtParamIndex, const char**))                                            \
  X(LiteRtGetSignatureOutputTensorByIndex, LiteRtStatus,                                          \
    (LiteRtSignature, LiteRtParamIndex, LiteRtTensor*))                                           \
  X(LiteRtGetNumSubgraphOps, LiteRtStatus, (LiteRtSubgraph, LiteRtParamIndex*))                   \
  X(LiteRtGetSubgraphOp, LiteRtStatus, (LiteRtSubgraph, LiteRtParamIndex, LiteRtOp*))             \
  X(LiteRtGetOpCode, LiteRtStatus, (LiteRtOp, int*))                                              \
  X(LiteRtGetCustomCode, LiteRtStatus, (LiteRtOp, const char**))                                  \
  X(LiteRtGetCustomOptions, LiteRtStatus, (LiteRtOp, const std::uint8_t**, std::size_t*))         \
  X(LiteRtGetNumOpInputs, LiteRtStatus, (LiteRtOp, LiteRtParamIndex*))                            \
  X(LiteRtGetOpInput, LiteRtStatus, (LiteRtOp, LiteRtParamIndex, LiteRtTensor*))                  \
  X(LiteRtGetNumOpOutputs, LiteRtStatus, (LiteRtOp, LiteRtParamIndex*))                           \
  X(LiteRtGetOpOutput, LiteRtStatus, (LiteRtOp, LiteRtParamIndex, LiteRtTensor*))                 \
  X(LiteRtGetTensorWeights, LiteRtStatus, (LiteRtTensor, LiteRtWeights*))                         \
  X(LiteRtGetWeightsBytes, LiteRtStatus, (LiteRtWeights, const void**, std::size_t*))             \
  X(LiteRtGetTensorName, LiteRtStatus, (LiteRtTensor, const char**))                              \
  X(LiteRtGetTensorTypeId, LiteRtStatus, (LiteRtTensor, LiteRtTensorTypeId*))                     \
  X(LiteRtGetRankedTensorType, LiteRtStatus, (LiteRtTensor, LiteRtRankedTensorType*))             \
  X(LiteRtGetQuantizationTypeId, LiteRtStatus, (LiteRtTensor, LiteRtQuantizationTypeId*))         \
  X(LiteRtGetPerTensorQuantization, LiteRtStatus, (LiteRtTensor, LiteRtQuantizationPerTensor*))   \
  X(LiteRtCreateOptions, LiteRtStatus, (LiteRtOptions*))                                          \
  X(LiteRtDestroyOptions, void, (LiteRtOptions))                                                  \
  X(LiteRtSetOptionsHardwareAccelerators, LiteRtStatus, (LiteRtOptions, int))                     \
  X(LiteRtCreateOpaqueOptions, LiteRtStatus,                                                      \
    (const char*, void*, void (*)(void*), LiteRtOpaqueOptions*))                                  \
  X(LiteRtDestroyOpaqueOptions, void, (LiteRtOpaqueOptions))                                      \
  X(LiteRtAddOpaqueOptions, LiteRtStatus, (LiteRtOptions, LiteRtOpaqueOptions))                   \
  X(LiteRtAddCustomOpKernelOption, LiteRtStatus,                                                  \
    (LiteRtOptions, const char*, int, const LiteRtCustomOpKernel*, void*))                        \
  X(LiteRtCreateCompiledModel, LiteRtStatus,                                                      \
    (LiteRtEnvironment, LiteRtModel, LiteRtOptions, LiteRtCompiledModel*))                        \
  X(LiteRtDestroyCompiledModel, void, (LiteRtCompiledModel))                                      \
  X(LiteRtRunCompiledModel, LiteRtStatus,                                                         \
    (LiteRtCompiledModel, LiteRtParamIndex, std::size_t, LiteRtTensorBuffer*, std::size_t,        \
     LiteRtTensorBuffer*))                                                                        \
  X(LiteRtCompiledModelResizeInputTensor, LiteRtStatus,                                           \
    (LiteRtCompiledModel, LiteRtParamIndex, LiteRtParamIndex, const int*, std::size_t))           \
  X(LiteRtCompiledModelResizeInputTensorNonStrict, LiteRtStatus,                                  \
    (LiteRtCompiledModel, LiteRtParamIndex, LiteRtParamIndex, const int*, std::size_t))           \
  X(LiteRtGetCompiledModelOutputTensorLayouts, LiteRtStatus,                                      \
    (LiteRtCompiledModel, LiteRtParamIndex, std::size_t, LiteRtLayout*, bool))                    \
  X(LiteRtCompiledModelGetErrorMessages, LiteRtStatus, (LiteRtCompiledModel, char**))             \
  X(LiteRtCompiledModelClearErrors, LiteRtStatus, (LiteRtCompiledModel))                          \
  X(LiteRtCreateTensorBufferFromHostMemory, LiteRtStatus,                                         \
    (const LiteRtRankedTensorType*, void*, std::size_t, void (*)(void*), LiteRtTensorBuffer*))    \
  X(LiteRtDestroyTensorBuffer, void, (LiteRtTensorBuffer))                                        \
  X(LiteRtGetTensorBufferTensorType, LiteRtStatus, (LiteRtTensorBuffer, LiteRtRankedTensorType*)) \
  X(LiteRtGetTensorBufferPackedSize, LiteRtStatus, (LiteRtTensorBuffer, std::size_t*))            \
  X(LiteRtLockTensorBuffer, LiteRtStatus,                                                         \
    (LiteRtTensorBuffer, void**, LiteRtTensorBufferLockMode))                                     \
  X(LiteRtUnlockTensorBuffer, LiteRtStatus, (LiteRtTensorBuffer))

struct LiteRtApi {
#define LC_LITERT_FIELD(name, ret, params) ret(*name) params = nullptr;
  LC_LITERT_FUNCTIONS(LC_LITERT_FIELD)
#undef LC_LITERT_FIELD
  std::string library_path;
};

// The symbol version every function above must carry.
constexpr const char* kLiteRtSymbolVersion = "VERS_1.0";

// Loads libLiteRt.so once per process (later calls with any path return the same table) and runs
// the self-check. `library_path` empty: the LARQ_COMPUTE_LITERT_LIB environment variable, else
// "libLiteRt.so" on the loader's search path. Returns null and sets *error on any failure.
const LiteRtApi* LoadLiteRtApi(const std::string& library_path, std::string* error);

// "3 (runtime failure)"-style text for messages.
std::string StatusText(LiteRtStatus status);

}  // namespace lc::litert
