// CUDA top-N selection (mirrors python/socialrec/topn.py select_top + _mask_seen): plain C++ entry point,
// raw device pointers and a stream. The dense scores come from cuBLAS through CuPy (python/socialrec/_gpu.py).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace socialrec::cuda {

struct TopKArgs {
    float* scores = nullptr;           // rows x cols (row stride `ld` elements); excluded entries are overwritten
    std::int64_t rows = 0, cols = 0, ld = 0;
    // Excluded columns per row (the seen-item filter), CSR indexed by row_ids[r] (or by r when row_ids is
    // null): items excl_indices[excl_indptr[u] .. excl_indptr[u+1]). Null excl_indptr: nothing excluded.
    const std::int64_t* row_ids = nullptr;
    const std::int64_t* excl_indptr = nullptr;
    const std::int32_t* excl_indices = nullptr;
    // Candidate items (sorted, unique) when the columns are a subset: column c is item candidates[c]; the
    // excluded items are looked up in it, and the output ids are candidate ids. Null: column c is item c.
    const std::int64_t* candidates = nullptr;
    std::int32_t n = 0;                // items per row to return
    std::int64_t* out_ids = nullptr;   // rows x n: best first, ties to the lower item, -1 padding
    float* out_scores = nullptr;       // rows x n: -inf padding
};

// Largest n the selection kernel handles (its candidates are sorted in shared memory).
constexpr std::int32_t kTopKMaxN = 2048;

// Asynchronous on `stream`. NaN and -inf scores are never selected (the CPU path pads them the same way for
// -inf; NaN is not a valid score). Throws std::invalid_argument / CudaError.
void topk_select(const TopKArgs& args, cudaStream_t stream);

}  // namespace socialrec::cuda
