// Shared pieces of the user-level DP-SGD steps (dp_sorec.hpp, dp_svdpp.hpp): a unit's released rows kept until
// its clipping factor is known, the clipping factor, and the noisy descent of one array (Abadi et al.,
// "Deep learning with differential privacy", CCS 2016, Algorithm 1). The draws are made in Python.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace socialrec::dp {

// What every user-level step reads: the user-side and item arrays, each user's ratings (CSR by user), the
// batch, and the hyper-parameters. A model's step args add their own arrays to it.
template <class T>
struct UserStepArgs {
    T* user_factors;   // n_users x factors (user side)
    T* item_factors;   // n_items x factors (released)
    T* user_bias;      // n_users (user side; when biased)
    T* item_bias;      // n_items (released; when biased)
    const std::int64_t* rating_offsets;  // n_users + 1: user u's ratings are [rating_offsets[u], [u + 1])
    const std::int32_t* items;
    const float* values;
    const std::int64_t* sampled;  // the batch's user ids
    std::int64_t n_sampled;
    std::int64_t n_users, n_items;
    std::int32_t factors;
    bool biased;
    double global_bias, learning_rate, regularization, bias_regularization, clip_norm, noise_scale;
};

// One unit's released gradient rows: each row is added, scaled by the unit's clipping factor, to its total.
template <class T>
class UnitRows {
public:
    void clear() {
        values_.clear();
        rows_.clear();
        norm2_ = 0;
    }
    // Room for a row of `size` values whose clipped copy goes to `total` (valid until the next `add`).
    T* add(T* total, std::int64_t size) {
        rows_.push_back({total, size, values_.size()});
        values_.resize(values_.size() + std::size_t(size));
        return values_.data() + rows_.back().at;
    }
    void add_norm2(double squares) { norm2_ += squares; }
    // Adds every row times c = min(1, C / n) (1 when n = 0), n the norm over all the unit's rows.
    void clip_into_totals(double clip_norm) const {
        const double norm = std::sqrt(norm2_);
        const T c = T(norm == 0 || norm <= clip_norm ? 1.0 : clip_norm / norm);
        for (const auto& row : rows_)
            for (std::int64_t f = 0; f < row.size; ++f) row.total[f] += c * values_[row.at + std::size_t(f)];
    }

private:
    struct Row {
        T* total;
        std::int64_t size;
        std::size_t at;
    };
    std::vector<T> values_;
    std::vector<Row> rows_;
    double norm2_ = 0;
};

// param[r, f] -= gamma (total[r, f] + scale noise[r, column + f]) for r < rows, f < width; `noise` (row stride
// `stride`) may be nullptr (no noise: the user side, or sigma = 0).
template <class T>
void descend(T* param, const std::vector<T>& total, std::int64_t rows, std::int64_t width, const double* noise,
             std::int64_t stride, std::int64_t column, T gamma, T scale) {
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t f = 0; f < width; ++f) {
            T g = total[std::size_t(r * width + f)];
            if (noise) g += scale * T(noise[r * stride + column + f]);
            param[r * width + f] -= gamma * g;
        }
}

template <class T>
T logistic(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

}  // namespace socialrec::dp
