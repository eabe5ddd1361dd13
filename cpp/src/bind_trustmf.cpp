// socialrec._core.trustmf_epoch
#include "bind_args.hpp"

namespace socialrec::bind {

// grid: the ratings; trust_grid: the trust edges (a sub-dict); the truster model, then the trustee model;
// the biases only when biased
template <class T>
void read_args(const Dicts& d, TrustMFArgs<T>& a) {
    SOCIALREC_READ((grid)(trust_grid)(user_factors)(item_factors)(trustee_factors)(trustee_user_factors)
                   (trustee_item_factors)(trustee_truster_factors)(factors)(global_bias)(learning_rate)
                   (regularization)(trust_regularization)(biased));
    if (a.biased)
        SOCIALREC_READ((user_bias)(item_bias)(trustee_user_bias)(trustee_item_bias)(bias_regularization));
}

SOCIALREC_EPOCH(trustmf_epoch, TrustMFArgs,
                "One TrustMF epoch (truster and trustee models, rating and trust passes, all stratified); "
                "returns the epoch loss.")

}  // namespace socialrec::bind
