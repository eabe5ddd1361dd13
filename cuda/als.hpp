// CUDA ALS / SocialALS half-steps (mirrors cpp/include/socialrec/als.hpp and models/social_als.hpp): plain
// C++ entry points with raw pointers, sizes and a stream. The Gramian G = Y'Y of the fixed side comes from
// cuBLAS through CuPy (python/socialrec/models/als.py); these solve every row of X against it.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace socialrec::cuda {

struct AlsHalfStepArgs {
    const float* G = nullptr;  // k x k Gramian of the fixed side Y (symmetric, float32)
    const void* Y = nullptr;   // fixed side, n_fixed x k, of the storage type (float, or __half when float16)
    std::int64_t n_fixed = 0;
    // The rows solved: CSR of the stored entries (columns index Y), int64 offsets, int32 columns.
    const std::int64_t* indptr = nullptr;
    const std::int32_t* indices = nullptr;
    const float* values = nullptr;
    std::int64_t rows = 0;
    void* X = nullptr;  // rows x k, updated in place (storage type)
    std::int32_t factors = 0;
    float alpha = 0.0f, regularization = 0.0f;
    std::int32_t cg_steps = 0;
    // SocialALS (null graph_indptr: none): S as CSR over the rows, the rows' values before this half-step
    // (`previous`, rows x k, not X itself) and beta. The term is A += beta s_u I, b += beta sum_f S_uf x_f.
    const std::int64_t* graph_indptr = nullptr;
    const std::int32_t* graph_indices = nullptr;
    const float* graph_values = nullptr;
    const void* previous = nullptr;  // storage type
    float beta = 0.0f;
    double* row_loss = nullptr;  // optional, rows: each row's sum c - x.(b + r) after its solve
    // Storage of X, Y and previous: float32, or IEEE half (dtype="float16"): read into float, the solve in
    // float32, the new row rounded to half once when stored.
    bool float16 = false;
};

// Largest k the CUDA solve handles (its five vectors of a row sit in shared memory).
constexpr std::int32_t kAlsMaxFactors = 2048;

// Asynchronous on `stream`: one warp per row for k <= 64, one block per row above. Throws
// std::invalid_argument for bad sizes, CudaError for launch failures.
void als_half_step(const AlsHalfStepArgs& args, cudaStream_t stream);

// The same row updates run serially on the host, through the same templates (cuda/als_row.hpp), on host
// pointers: the device-free check of the kernel's math (tests/test_cuda_host_math.py).
void host_als_half_step(const AlsHalfStepArgs& args);

}  // namespace socialrec::cuda
