// ALS: weighted matrix factorisation for implicit feedback (WRMF; Hu, Koren, Volinsky, ICDM 2008, eq. 3).
//
// Score x_u . y_i. Objective, over every (user, item) pair, stored or not:
//   sum_{u,i} c_ui (p_ui - x_u.y_i)^2 + lambda (sum_u |x_u|^2 + sum_i |y_i|^2),
//   stored entries: p_ui = 1, c_ui = 1 + alpha r_ui;  all other pairs: p_ui = 0, c_ui = 1.
// One epoch is one alternation: every user row solved with the items fixed, then every item row with the
// users fixed (socialrec/als.hpp). The epoch returns the objective at the end of the alternation.
// Reference: socialrec/reference/als.py.
#pragma once
#include <cstdint>

#include "socialrec/als.hpp"
#include "socialrec/types.hpp"

namespace socialrec {

template <class T>
struct ALSArgs {
    CsrRows user_items;  // n_users rows: r_ui of each user
    CsrRows item_users;  // n_items rows: the transpose
    T* user_factors;     // n_users x factors
    T* item_factors;     // n_items x factors
    std::int32_t factors;
    ALSSolver solver;
};

}  // namespace socialrec

SOCIALREC_KERNELS_BEGIN

template <class T>
double als_epoch(const ALSArgs<T>& a, const PassSettings& settings) {
    return dispatch_dim(a.factors, [&](auto dim) {
        const std::int64_t n_users = a.user_items.rows, n_items = a.item_users.rows;
        als_half_step(a.user_items, a.user_factors, a.item_factors, n_items, dim, a.solver, NoRowTerm{}, false,
                      settings);
        // The item half-step's row terms hold the whole objective but lambda |X|^2.
        const double loss = als_half_step(a.item_users, a.item_factors, a.user_factors, n_users, dim, a.solver,
                                          NoRowTerm{}, true, settings);
        return loss + a.solver.regularization * squared_frobenius(a.user_factors, n_users, dim);
    });
}

SOCIALREC_KERNELS_END
