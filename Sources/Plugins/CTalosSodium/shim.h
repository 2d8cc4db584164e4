#ifndef C_TALOS_SODIUM_SHIM_H
#define C_TALOS_SODIUM_SHIM_H

#include <sodium.h>

#endif
