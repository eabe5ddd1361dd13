// Instantiates the SoReg epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(soreg_epoch, SoRegArgs)
