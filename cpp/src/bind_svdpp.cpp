// socialrec._core.svdpp_epoch
#include "bind_user_groups.hpp"

namespace socialrec::bind {

SOCIALREC_ARGS(SVDppArgs, (user_factors)(item_factors)(implicit_factors)(user_bias)(item_bias)(groups)(factors)
                          (global_bias)(learning_rate)(regularization)(bias_regularization))

SOCIALREC_EPOCH(svdpp_epoch, SVDppArgs, "One SGD epoch of SVD++ (user-grouped rating pass); returns the epoch loss.")

}  // namespace socialrec::bind
