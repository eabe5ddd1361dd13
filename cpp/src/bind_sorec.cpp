// socialrec._core.sorec_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

// grid: the ratings; link_grid: the packed trust edges (a sub-dict); the biases only when biased
template <class T>
void read_args(const Dicts& d, SoRecArgs<T>& a) {
    SOCIALREC_READ((grid)(link_grid)(user_factors)(item_factors)(link_factors)(factors)(global_bias)(learning_rate)
                   (regularization)(social_regularization)(biased));
    if (a.biased) SOCIALREC_READ((user_bias)(item_bias)(bias_regularization));
}

SOCIALREC_EPOCH(sorec_epoch, SoRecArgs,
                "One SGD epoch of SoRec (rating grid, then trust-edge grid); returns the epoch loss.")

}  // namespace socialrec::bind
