// Instantiates the BPR epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(bpr_epoch, BPRArgs)
