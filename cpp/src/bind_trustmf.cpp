// socialrec._core.trustmf_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

// grid: the ratings; trust_grid: the trust edges (a sub-dict); the truster model, then the trustee model
SOCIALREC_ARGS(TrustMFArgs, (grid)(trust_grid)(user_factors)(item_factors)(trustee_factors)(trustee_user_factors)
                            (trustee_item_factors)(trustee_truster_factors)(factors)(global_bias)(learning_rate)
                            (regularization)(trust_regularization))

SOCIALREC_EPOCH(trustmf_epoch, TrustMFArgs,
                "One TrustMF epoch (truster and trustee models, rating and trust passes, all stratified); "
                "returns the epoch loss.")

}  // namespace socialrec::bind
