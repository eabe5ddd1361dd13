// socialrec._core.als_epoch and socialrec._core.social_als_epoch (the WRMF family).
#include "bind_args.hpp"
#include "bind_csr.hpp"

namespace socialrec::bind {

// ALSSolver's settings, all from hyper (ALSArgs::solver).
void read_args(const Dicts& d, ALSSolver& a) { SOCIALREC_READ((alpha)(regularization)(cg_steps)(cholesky)); }

template <class T>
void read_args(const Dicts& d, ALSArgs<T>& a) {
    SOCIALREC_READ((factors)(solver)(user_factors)(item_factors));
    if (a.factors <= 0) throw py::value_error("factors must be positive");
    // r_ui as CSR rows both ways: the users' rows index the items, the items' rows the users
    const auto n_users = exact_array<std::int64_t>(d.arrays, "user_items_indptr").size() - 1;
    const auto n_items = exact_array<std::int64_t>(d.arrays, "item_users_indptr").size() - 1;
    a.user_items = csr_rows(d.arrays, "user_items", n_items);
    a.item_users = csr_rows(d.arrays, "item_users", n_users);
    check_size(d.arrays, "user_factors", n_users * a.factors);
    check_size(d.arrays, "item_factors", n_items * a.factors);
}

template <class T>
void read_args(const Dicts& d, SocialALSArgs<T>& a) {
    SOCIALREC_READ((als)(social_regularization));
    a.similarity = csr_rows(d.arrays, "similarity", a.als.user_items.rows);
    if (a.similarity.rows != a.als.user_items.rows)
        throw py::value_error("'similarity_indptr' must have n_users + 1 entries");
}

SOCIALREC_EPOCH(als_epoch, ALSArgs,
                "One ALS (WRMF) alternation: user rows, then item rows; returns the objective after it.")
SOCIALREC_EPOCH(social_als_epoch, SocialALSArgs,
                "One SocialALS alternation (Jacobi user solves with the graph-Laplacian term, then WRMF item solves); "
                "returns the objective after it.")

}  // namespace socialrec::bind
