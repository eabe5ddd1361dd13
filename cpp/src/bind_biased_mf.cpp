// socialrec._core.biased_mf_epoch
#include "bind_args.hpp"
#include "bind_checks.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, BiasedMFArgs<T>& a) {
    SOCIALREC_READ((grid)(user_factors)(item_factors)(biased)(factors)(global_bias)(learning_rate)(regularization)
                   (bias_regularization));
    if (a.biased) SOCIALREC_READ((user_bias)(item_bias));
    const std::int64_t n_users = check_factor_matrix(d.arrays, "user_factors", a.factors);
    const std::int64_t n_items = check_factor_matrix(d.arrays, "item_factors", a.factors);
    check_grid(a.grid, n_users, n_items, "grid");
    if (a.biased) check_biases(d.arrays, n_users, n_items);
    // optional (absent: the constant schedule), so that callers written before the schedule keep working
    a.adaptive = d.hyper.contains("adaptive") && scalar<bool>(d.hyper, "adaptive");
    if (a.adaptive) {  // RPCS accumulators: one per factor row, training state owned by the caller
        SOCIALREC_READ((user_accumulators)(item_accumulators));
        check_shape(d.arrays, "user_accumulators", {rows_of(d.arrays, "user_factors")});
        check_shape(d.arrays, "item_accumulators", {rows_of(d.arrays, "item_factors")});
    }
    read_penalty_weights(d, a, n_users, n_items);
    if (a.weighted && a.adaptive) throw py::value_error("the penalty weights ('weighted') need the constant schedule");
}

SOCIALREC_EPOCH(biased_mf_epoch, BiasedMFArgs, "One SGD epoch of BiasedMF/PMF over the rating grid; returns the epoch loss.")

}  // namespace socialrec::bind
