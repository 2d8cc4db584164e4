#ifndef C_TALOS_OPENSSL_SHIM_H
#define C_TALOS_OPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/err.h>

#endif
