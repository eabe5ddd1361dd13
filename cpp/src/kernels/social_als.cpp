// Instantiates the SocialALS epoch for this instruction-set variant.
#include "socialrec/kernel_table.hpp"

SOCIALREC_INSTANTIATE_KERNEL(social_als_epoch, SocialALSArgs)
