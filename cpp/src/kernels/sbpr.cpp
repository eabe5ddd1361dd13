// Instantiates the SBPR epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(sbpr_epoch, SBPRArgs)
