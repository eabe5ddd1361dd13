// SocialALS: WRMF (socialrec/models/als.hpp) with a graph-Laplacian term on the user factors, in the style of
// GRALS (Rao, Yu, Ravikumar, Dhillon, "Collaborative filtering with graph information", NIPS 2015, eq. 3):
//   WRMF objective + beta/2 sum_u sum_f S_uf |x_u - x_f|^2   (= beta tr(X' Lap X), Lap = D - S),
// S symmetric (each friendship stored in both directions), s_u = sum_f S_uf.
// For user u with everyone else fixed the normal equations gain (the Python docstring derives them):
//   (A_u + beta s_u I) x_u = b_u + beta sum_f S_uf x_f.
// Jacobi sweep: x_f is the neighbour's value from before this user half-step (a snapshot), so all user rows
// stay independent and the result is the same on any number of threads. The item half-step is WRMF's.
// Reference: socialrec/reference/social_als.py.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "socialrec/als.hpp"
#include "socialrec/models/als.hpp"
#include "socialrec/types.hpp"

namespace socialrec {

template <class T>
struct SocialALSArgs {
    ALSArgs<T> als;
    CsrRows similarity;  // n_users rows: S_uf, symmetric
    double social_regularization;  // beta
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

// A_u += beta s_u I,  b_u += beta sum_f S_uf x_f(previous).
template <class T>
struct GraphLaplacianTerm {
    static constexpr bool enabled = true;
    CsrRows graph;
    const T* previous;  // user factors before the half-step
    T beta;

    template <class U>
    U shift(std::int64_t u) const {
        U degree = 0;
        for (std::int64_t e = graph.indptr[u]; e < graph.indptr[u + 1]; ++e) degree += U(graph.values[e]);
        return beta * degree;
    }
    template <class U, class Dim>
    void add_rhs(std::int64_t u, U* b, Dim dim) const {
        for (std::int64_t e = graph.indptr[u]; e < graph.indptr[u + 1]; ++e)
            axpy(beta * U(graph.values[e]), previous + std::int64_t(graph.indices[e]) * dim.size(), b, dim);
    }
};

// beta/2 sum_u sum_f S_uf |x_u - x_f|^2, users summed in order (each in double).
template <class T, class Dim>
double laplacian_penalty(const CsrRows& graph, const T* X, double beta, Dim dim, int threads) {
    std::vector<double> per_user(graph.rows, 0.0);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
    for (std::int64_t u = 0; u < graph.rows; ++u) {
        const T* x = X + u * dim.size();
        double acc = 0;
        for (std::int64_t e = graph.indptr[u]; e < graph.indptr[u + 1]; ++e) {
            const T* xf = X + std::int64_t(graph.indices[e]) * dim.size();
            double d2 = 0;
            for (int j = 0; j < dim.size(); ++j) {
                const double d = double(x[j]) - double(xf[j]);
                d2 += d * d;
            }
            acc += double(graph.values[e]) * d2;
        }
        per_user[u] = acc;
    }
    double total = 0;
    for (double v : per_user) total += v;
    return 0.5 * beta * total;
}

template <class T>
double social_als_epoch(const SocialALSArgs<T>& s, const PassSettings& settings) {
    const ALSArgs<T>& a = s.als;
    return dispatch_dim(a.factors, [&](auto dim) {
        const std::int64_t n_users = a.user_items.rows, n_items = a.item_users.rows;
        if (s.social_regularization == 0.0) {  // exactly WRMF (same operations, same bits)
            als_half_step(a.user_items, a.user_factors, a.item_factors, n_items, dim, a.solver, NoRowTerm{}, false,
                          settings);
        } else {
            const std::vector<T> previous(a.user_factors, a.user_factors + n_users * dim.size());
            GraphLaplacianTerm<T> term{s.similarity, previous.data(), T(s.social_regularization)};
            als_half_step(a.user_items, a.user_factors, a.item_factors, n_items, dim, a.solver, term, false, settings);
        }
        const double loss = als_half_step(a.item_users, a.item_factors, a.user_factors, n_users, dim, a.solver,
                                          NoRowTerm{}, true, settings);
        return loss + a.solver.regularization * squared_frobenius(a.user_factors, n_users, dim) +
               laplacian_penalty(s.similarity, a.user_factors, s.social_regularization, dim,
                                 int(std::min<std::int64_t>(resolve_threads(settings.threads),
                                                            1 + s.similarity.indptr[n_users] * dim.size() / 1000000)));
    });
}

SOCIALREC_KERNELS_END
