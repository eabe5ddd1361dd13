// socialrec._core.rste_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

SOCIALREC_ARGS(RSTEArgs, (rating_users)(ratings)(rating_offsets)(trust_offsets)(trust_dst)(trust_weight)
                         (user_factors)(item_factors)(factors)(alpha)(global_bias)(learning_rate)(regularization))

SOCIALREC_EPOCH(rste_epoch, RSTEArgs, "One RSTE epoch (ratings grouped by user); returns the epoch loss.")

}  // namespace socialrec::bind
