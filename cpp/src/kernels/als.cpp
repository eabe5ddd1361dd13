// Instantiates the ALS (WRMF) epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(als_epoch, ALSArgs)
