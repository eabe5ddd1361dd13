// Instantiates the SVD++ epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(svdpp_epoch, SVDppArgs)
