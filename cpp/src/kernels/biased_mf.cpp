// Instantiates the BiasedMF/PMF epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(biased_mf_epoch, BiasedMFArgs)
