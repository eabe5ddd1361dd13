// Instantiates the TrustSVD epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(trustsvd_epoch, TrustSVDArgs)
