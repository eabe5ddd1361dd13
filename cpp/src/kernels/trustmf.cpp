// Instantiates the TrustMF epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(trustmf_epoch, TrustMFArgs)
