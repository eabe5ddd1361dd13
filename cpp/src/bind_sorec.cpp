// socialrec._core.sorec_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

// grid: the ratings; link_grid: the packed trust edges (a sub-dict)
SOCIALREC_ARGS(SoRecArgs, (grid)(link_grid)(user_factors)(item_factors)(link_factors)(factors)(global_bias)
                          (learning_rate)(regularization)(social_regularization))

SOCIALREC_EPOCH(sorec_epoch, SoRecArgs,
                "One SGD epoch of SoRec (rating grid, then trust-edge grid); returns the epoch loss.")

}  // namespace socialrec::bind
