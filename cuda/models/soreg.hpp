// CUDA: SoReg SR2's edge pass (cpp/include/socialrec/models/soreg.hpp); SR1 is social_mf.cu's mean-pull pass
// and the rating pass is biased_mf.cu's PMF pass.
// A plain C++ entry point taking raw device pointers, sizes and a stream (nvcc never sees pybind11); the
// schedule and the loss convention are those of cuda/sgd.cuh; the step (SoRegEdgeStep, below) is written once
// over a team and a row layout (hd_team.hpp) for the kernel and its host replay.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "hd_team.hpp"
#include "sgd.hpp"
#include "steps.hpp"

namespace socialrec::cuda {

// SoReg SR2: records (u, f, Sim), one step on U per record (soreg.hpp SoRegEdgeStep).
struct EdgePassArgs {
    const std::int32_t* a = nullptr;
    const std::int32_t* b = nullptr;
    const float* values = nullptr;  // Sim(u, f)
    std::int64_t n = 0;
    void* user_factors = nullptr;
    std::int32_t factors = 0;
    Storage storage = Storage::float32;
    float learning_rate = 0, social_regularization = 0;  // gamma, beta
    std::uint64_t pass = 0;
    double* loss = nullptr;
};
void soreg_edge_pass(const EdgePassArgs& args, std::uint64_t seed, std::int64_t epoch, cudaStream_t stream);

// SoReg SR2's step on edge (u, f, Sim) (soreg.hpp SoRegEdgeStep; Ma et al. 2011, eq. 13), w = beta Sim:
//   d = U_u - U_f,  U_u -= gamma w d,  U_f += gamma w d;  returns the term w/2 |d|^2.
// Element-wise (steps.hpp difference_element): each slice is read and written once, no reduction before the
// update; the squared norm is reduced afterwards for the term.
template <class T>
struct SoRegEdgeStep {
    using Storage = T;  // the factors' storage type
    T* U;
    float gamma, beta;

    SOCIALREC_HD_TEMPLATE
    template <class Team, class Slices>
    SOCIALREC_HD double operator()(const Team& team, const Slices& rows, int u, int f, float sim) const {
        const float w = beta * sim;
        const float step_size = gamma * w;
        typename Slices::Slice x, y;
        float squared = 0.0f;
        for (int s = 0; s < rows.count(); ++s) {
            rows.load(U, u, s, x);
            rows.load(U, f, s, y);
            SOCIALREC_UNROLL
            for (int j = 0; j < x.size(); ++j) {
                const float d = step::difference_element(x[j], y[j], step_size);  // 0 beyond k
                squared = fmaf(d, d, squared);
            }
            rows.store(U, u, s, x);
            rows.store(U, f, s, y);
        }
        return step::difference_term(w, team.sum(squared));
    }
};

}  // namespace socialrec::cuda
