// Instantiates the SoRec epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(sorec_epoch, SoRecArgs)
