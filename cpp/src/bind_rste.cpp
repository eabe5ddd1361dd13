// socialrec._core.rste_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

template <class T>
void read_args(const Dicts& d, RSTEArgs<T>& a) {
    SOCIALREC_READ((rating_users)(ratings)(rating_offsets)(trust_offsets)(trust_dst)(trust_weight)(user_factors)
                   (item_factors)(factors)(biased)(alpha)(global_bias)(learning_rate)(regularization)
                   (bias_regularization));
    if (a.biased) SOCIALREC_READ((user_bias)(item_bias));  // b_u, b_i (updated in place)
}

SOCIALREC_EPOCH(rste_epoch, RSTEArgs, "One RSTE epoch (ratings grouped by user); returns the epoch loss.")

}  // namespace socialrec::bind
