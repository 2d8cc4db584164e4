#ifndef C_TALOS_OPENSSL_SHIM_H
#define C_TALOS_OPENSSL_SHIM_H

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

// Glue only: these helpers build and read OpenSSL key objects through OSSL_PARAM lists, which need C string
// constants that must outlive the call. No cryptography is implemented here.

/// An RSA key from big-endian components; d, p, q, dp, dq and qi may be NULL for a public key.
static inline EVP_PKEY *talos_rsa_from_components(
    const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len,
    const unsigned char *d, size_t d_len, const unsigned char *p, size_t p_len,
    const unsigned char *q, size_t q_len, const unsigned char *dp, size_t dp_len,
    const unsigned char *dq, size_t dq_len, const unsigned char *qi, size_t qi_len) {
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
    BIGNUM *numbers[8] = {0};
    const unsigned char *inputs[8] = {n, e, d, p, q, dp, dq, qi};
    size_t lengths[8] = {n_len, e_len, d_len, p_len, q_len, dp_len, dq_len, qi_len};
    const char *names[8] = {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    int is_private = d != NULL;
    int count = is_private ? 8 : 2;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (builder == NULL) goto done;
    for (int i = 0; i < count; i++) {
        if (inputs[i] == NULL) goto done;
        numbers[i] = BN_bin2bn(inputs[i], (int)lengths[i], NULL);
        if (numbers[i] == NULL || !OSSL_PARAM_BLD_push_BN(builder, names[i], numbers[i])) goto done;
    }
    params = OSSL_PARAM_BLD_to_param(builder);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1) goto done;
    if (EVP_PKEY_fromdata(ctx, &pkey, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1) pkey = NULL;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    for (int i = 0; i < 8; i++) BN_free(numbers[i]);
    return pkey;
}

/// Component `index` (0 n, 1 e, 2 d, 3 p, 4 q, 5 dp, 6 dq, 7 qi) of an RSA key, big-endian, into `out` (capacity
/// `capacity`). Returns the length, or -1.
static inline int talos_rsa_component(const EVP_PKEY *pkey, int index, unsigned char *out, int capacity) {
    const char *names[8] = {OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    BIGNUM *number = NULL;
    if (index < 0 || index > 7 || EVP_PKEY_get_bn_param(pkey, names[index], &number) != 1) return -1;
    int length = BN_num_bytes(number);
    int result = length <= capacity ? BN_bn2bin(number, out) : -1;
    BN_clear_free(number);
    return result;
}

/// A new RSA key pair of `bits` bits (public exponent 65537).
static inline EVP_PKEY *talos_rsa_generate(unsigned int bits) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) == 1) {
        if (EVP_PKEY_generate(ctx, &pkey) != 1) pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/// Initialises an HMAC context with SHA-256 and a key.
static inline int talos_hmac_sha256_init(EVP_MAC_CTX *ctx, const unsigned char *key, size_t key_len) {
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_init(ctx, key, key_len, params);
}

#endif
