// Instantiates the RSTE epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(rste_epoch, RSTEArgs)
