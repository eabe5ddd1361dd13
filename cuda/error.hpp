// Errors of the CUDA back-end: every CUDA runtime status other than success becomes a C++ CudaError, which
// the binding (cuda/module.cpp) turns into socialrec.CudaError. Nothing here aborts or exits (DESIGN §6).
#pragma once
#include <cuda_runtime_api.h>

#include <string>
#include <stdexcept>

namespace socialrec::cuda {

struct CudaError : std::runtime_error {
    cudaError_t status;
    CudaError(const std::string& what, cudaError_t s) : std::runtime_error(what), status(s) {}
};

// Throws CudaError naming the call that failed and the runtime's own description of the status.
inline void check(cudaError_t status, const char* call) {
    if (status == cudaSuccess) return;
    // Clear a non-sticky error so that later calls on this thread do not report it again.
    cudaGetLastError();
    throw CudaError(std::string(call) + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
                        ")",
                    status);
}

}  // namespace socialrec::cuda
