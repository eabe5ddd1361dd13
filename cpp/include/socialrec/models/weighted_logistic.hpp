// The step shared by the models that fit g(a . b) to a target in [0, 1], g(x) = 1 / (1 + e^-x) the logistic
// function (DESIGN §4): the rating pass of SoRec (Ma, Yang, Lyu, King, CIKM 2008, eq. 5/9) and SocialMF
// (Jamali & Ester, RecSys 2010, eq. 7), with ratings min-max mapped to [0, 1], and SoRec's link pass.
//
// One observation (row a of A, row b of B, target c, weight w) contributes
//   w [ 1/2 (c - g(x))^2 + lambda/2 (|A_a|^2 + |B_b|^2) ],   x = A_a . B_b,
// and, with e = c - g(x) and g'(x) = g(x) (1 - g(x)), one SGD step on it is (old A_a, B_b on the right)
//   A_a += gamma w (e g'(x) B_b - lambda A_a),   B_b += gamma w (e g'(x) A_a - lambda B_b).
// Reference: socialrec/reference/_logistic.py (pair_step), used by reference/sorec.py and social_mf.py.
#pragma once
#include <cstdint>

#include "socialrec/logistic.hpp"
#include "socialrec/types.hpp"
#include "socialrec/vec.hpp"

SOCIALREC_KERNELS_BEGIN

// record.user indexes A (users), record.item indexes B (items, or the trustees' factor matrix Z).
template <class T, class Dim>
struct WeightedLogisticStep {
    T* A;
    T* B;
    Dim dim;
    T gamma, weight, lambda;

    double operator()(const RatingRecord& r) const {
        T* __restrict a = A + std::int64_t(r.user) * dim.size();
        T* __restrict b = B + std::int64_t(r.item) * dim.size();
        const T g = logistic(dot(a, b, dim));
        const T e = T(r.value) - g;
        const T ge = e * g * (T(1) - g);   // e g'(x)
        const T step = gamma * weight;
        T norms = 0;
#pragma omp simd reduction(+ : norms)
        for (int j = 0; j < dim.size(); ++j) {
            const T aj = a[j], bj = b[j];
            norms += aj * aj + bj * bj;
            a[j] = aj + step * (ge * bj - lambda * aj);
            b[j] = bj + step * (ge * aj - lambda * bj);
        }
        return double(weight) * (0.5 * double(e) * double(e) + 0.5 * double(lambda) * double(norms));
    }
};

SOCIALREC_KERNELS_END
