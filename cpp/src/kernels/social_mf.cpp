// Instantiates the SocialMF epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(social_mf_epoch, SocialMFArgs)
