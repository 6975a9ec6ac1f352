/* The test PKI of the TLS tests; see support-tls.h. */
#include "support-tls.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY_SECONDS (24L * 60 * 60)
#define ORGANIZATION "hark tests"

/* What one certificate is: who it names, for what, and for how long. */
struct cert_spec {
        const char *common_name;
        bool ca;
        const char *extended_usage;     /* "serverAuth", "clientAuth"; NULL for a CA */
        const char *san;                /* NULL: none */
        long from_days, until_days;     /* validity, relative to now */
};

/* A CA's certificate and key, kept to sign others. */
struct signer {
        X509 *cert;
        EVP_PKEY *key;
};

static int crypto_failed(const char *what) {
        fprintf(stderr, "support: %s failed:\n", what);
        ERR_print_errors_fp(stderr);
        return -EIO;
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key) {
        FILE *f = fopen(path, "we");
        int ok, r = 0;

        if (!f)
                return -errno;
        ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
        if (!ok)
                r = crypto_failed("PEM_write");
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        return r;
}

static X509 *read_cert(const char *path) {
        FILE *f = fopen(path, "re");
        X509 *cert;

        if (!f)
                return NULL;
        cert = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        return cert;
}

static EVP_PKEY *read_key(const char *path) {
        FILE *f = fopen(path, "re");
        EVP_PKEY *key;

        if (!f)
                return NULL;
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        return key;
}

static int add_extension(X509 *cert, X509V3_CTX *ctx, int nid, const char *value) {
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
        int ok;

        if (!ext)
                return crypto_failed(OBJ_nid2sn(nid));
        ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        return ok ? 0 : crypto_failed("X509_add_ext");
}

static int add_extensions(X509 *cert, X509 *issuer, const struct cert_spec *spec) {
        X509V3_CTX ctx;
        int r;

        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
        r = add_extension(cert, &ctx, NID_basic_constraints, spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        if (r == 0)
                r = add_extension(cert, &ctx, NID_key_usage,
                                  spec->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
        if (r == 0)
                r = add_extension(cert, &ctx, NID_subject_key_identifier, "hash");
        /* A self-signed CA has no issuer key identifier to point at. */
        if (r == 0 && issuer)
                r = add_extension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
        if (r == 0 && spec->extended_usage)
                r = add_extension(cert, &ctx, NID_ext_key_usage, spec->extended_usage);
        if (r == 0 && spec->san)
                r = add_extension(cert, &ctx, NID_subject_alt_name, spec->san);
        return r;
}

/* A random positive serial: two CAs of one run, or two runs, never repeat one. */
static int set_serial(X509 *cert) {
        uint64_t serial;

        if (RAND_bytes((unsigned char *) &serial, sizeof(serial)) != 1)
                return crypto_failed("RAND_bytes");
        serial = (serial >> 1) | 1;
        if (!ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial))
                return crypto_failed("ASN1_INTEGER_set_uint64");
        return 0;
}

static int set_names(X509 *cert, X509 *issuer, const char *common_name) {
        X509_NAME *name = X509_get_subject_name(cert);

        if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *) ORGANIZATION, -1, -1, 0) ||
            !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) common_name, -1, -1, 0))
                return crypto_failed("X509_NAME_add_entry");
        if (!X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name))
                return crypto_failed("X509_set_issuer_name");
        return 0;
}

/* A new certificate for key after spec, signed by signer (NULL: by key
 * itself). */
static X509 *make_cert(EVP_PKEY *key, const struct cert_spec *spec, const struct signer *signer) {
        X509 *cert = X509_new(), *issuer = signer ? signer->cert : NULL;
        int r;

        if (!cert) {
                crypto_failed("X509_new");
                return NULL;
        }
        r = 0;
        if (!X509_set_version(cert, X509_VERSION_3) || !X509_set_pubkey(cert, key) ||
            !X509_gmtime_adj(X509_getm_notBefore(cert), spec->from_days * DAY_SECONDS) ||
            !X509_gmtime_adj(X509_getm_notAfter(cert), spec->until_days * DAY_SECONDS))
                r = crypto_failed("X509 fields");
        if (r == 0)
                r = set_serial(cert);
        if (r == 0)
                r = set_names(cert, issuer, spec->common_name);
        if (r == 0)
                r = add_extensions(cert, issuer, spec);
        if (r == 0 && !X509_sign(cert, signer ? signer->key : key, EVP_sha256()))
                r = crypto_failed("X509_sign");
        if (r < 0) {
                X509_free(cert);
                return NULL;
        }
        return cert;
}

/* Makes a key and a certificate after spec into cert_path and key_path;
 * *out (may be NULL) keeps both, for signing others. */
static int issue(const struct cert_spec *spec, const struct signer *signer, const char *cert_path,
                 const char *key_path, struct signer *out) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *cert = NULL;
        int r;

        if (!key)
                return crypto_failed("EVP_EC_gen");
        cert = make_cert(key, spec, signer);
        r = cert ? write_pem(cert_path, cert, NULL) : -EIO;
        if (r == 0)
                r = write_pem(key_path, NULL, key);
        if (r == 0 && out) {
                out->cert = cert;
                out->key = key;
                return 0;
        }
        X509_free(cert);
        EVP_PKEY_free(key);
        return r;
}

static void signer_free(struct signer *s) {
        X509_free(s->cert);
        EVP_PKEY_free(s->key);
        s->cert = NULL;
        s->key = NULL;
}

static int path_in(char path[TEST_PKI_PATH], const char *dir, const char *name) {
        int n = snprintf(path, TEST_PKI_PATH, "%s/%s", dir, name);

        return n < 0 || n >= TEST_PKI_PATH ? -ENAMETOOLONG : 0;
}

static int name_files(struct test_pki *pki, const char *dir) {
        struct {
                char *path;
                const char *name;
        } files[] = {
                { pki->ca, "ca.crt" },
                { pki->ca_key, "ca.key" },
                { pki->server_cert, "server.crt" },
                { pki->server_key, "server.key" },
                { pki->client_cert, "client.crt" },
                { pki->client_key, "client.key" },
                { pki->other_ca, "other-ca.crt" },
                { pki->other_ca_key, "other-ca.key" },
                { pki->other_client_cert, "other-client.crt" },
                { pki->other_client_key, "other-client.key" },
                { pki->expired_cert, "expired.crt" },
                { pki->expired_key, "expired.key" },
        };
        int n = snprintf(pki->dir, sizeof(pki->dir), "%s", dir), r = 0;

        if (n < 0 || n >= TEST_PKI_PATH)
                r = -ENAMETOOLONG;
        for (size_t i = 0; r == 0 && i < sizeof(files) / sizeof(files[0]); i++)
                r = path_in(files[i].path, dir, files[i].name);
        return r;
}

static struct cert_spec leaf(const char *common_name, const char *usage, const char *san) {
        return (struct cert_spec) {
                .common_name = common_name,
                .extended_usage = usage,
                .san = san,
                .from_days = -1,
                .until_days = 30,
        };
}

static struct cert_spec authority(const char *common_name) {
        return (struct cert_spec) { .common_name = common_name, .ca = true, .from_days = -1, .until_days = 30 };
}

int test_pki_create(struct test_pki *pki, const char *dir) {
        struct signer ca = { 0 }, other = { 0 };
        struct cert_spec ca_spec = authority("hark test CA"), other_spec = authority("hark other CA");
        struct cert_spec server = leaf("localhost", "serverAuth", TEST_PKI_SERVER_SAN);
        struct cert_spec client = leaf("client.example", "clientAuth", NULL);
        struct cert_spec stranger = leaf("other.example", "clientAuth", NULL);
        struct cert_spec expired = leaf("expired.example", "clientAuth", NULL);
        int r;

        memset(pki, 0, sizeof(*pki));
        expired.from_days = -30;
        expired.until_days = -1;
        r = name_files(pki, dir);
        if (r == 0)
                r = issue(&ca_spec, NULL, pki->ca, pki->ca_key, &ca);
        if (r == 0)
                r = issue(&other_spec, NULL, pki->other_ca, pki->other_ca_key, &other);
        if (r == 0)
                r = issue(&server, &ca, pki->server_cert, pki->server_key, NULL);
        if (r == 0)
                r = issue(&client, &ca, pki->client_cert, pki->client_key, NULL);
        if (r == 0)
                r = issue(&stranger, &other, pki->other_client_cert, pki->other_client_key, NULL);
        if (r == 0)
                r = issue(&expired, &ca, pki->expired_cert, pki->expired_key, NULL);
        signer_free(&ca);
        signer_free(&other);
        return r;
}

/* Issues spec from pki's ca as <dir>/<stem>.crt and <dir>/<stem>.key. */
static int new_leaf(const struct test_pki *pki, const char *stem, const struct cert_spec *spec,
                    char cert[TEST_PKI_PATH], char key[TEST_PKI_PATH]) {
        struct signer ca = { read_cert(pki->ca), read_key(pki->ca_key) };
        char name[TEST_PKI_PATH];
        int r = ca.cert && ca.key ? 0 : crypto_failed("reading the test CA");

        if (r == 0) {
                snprintf(name, sizeof(name), "%s.crt", stem);
                r = path_in(cert, pki->dir, name);
        }
        if (r == 0) {
                snprintf(name, sizeof(name), "%s.key", stem);
                r = path_in(key, pki->dir, name);
        }
        if (r == 0)
                r = issue(spec, &ca, cert, key, NULL);
        signer_free(&ca);
        return r;
}

int test_pki_new_server(const struct test_pki *pki, const char *stem, const char *san,
                        char cert[TEST_PKI_PATH], char key[TEST_PKI_PATH]) {
        struct cert_spec spec = leaf(stem, "serverAuth", san ? san : TEST_PKI_SERVER_SAN);

        return new_leaf(pki, stem, &spec, cert, key);
}

int test_pki_new_client(const struct test_pki *pki, const char *stem, char cert[TEST_PKI_PATH],
                        char key[TEST_PKI_PATH]) {
        struct cert_spec spec = leaf(stem, "clientAuth", NULL);

        return new_leaf(pki, stem, &spec, cert, key);
}

int test_cert_sha256(const char *path, char *buffer, size_t size) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        X509 *cert = read_cert(path);
        int r = 0;

        if (!cert)
                return crypto_failed("reading a certificate");
        if (!X509_digest(cert, EVP_sha256(), md, &n))
                r = crypto_failed("X509_digest");
        else if (size < (size_t) n * 3)
                r = -ENOBUFS;
        for (unsigned int i = 0; r == 0 && i < n; i++)
                snprintf(buffer + i * 3, size - i * 3, i + 1 < n ? "%02X:" : "%02X", md[i]);
        X509_free(cert);
        return r;
}

int test_cert_subject(const char *path, char *buffer, size_t size) {
        X509 *cert = read_cert(path);
        BIO *bio = BIO_new(BIO_s_mem());
        char *text;
        long length;
        int r = 0;

        if (!cert || !bio)
                r = crypto_failed("reading a certificate");
        else if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
                r = crypto_failed("X509_NAME_print_ex");
        if (r == 0) {
                length = BIO_get_mem_data(bio, &text);
                if (length < 0 || (size_t) length >= size)
                        r = -ENOBUFS;
                else
                        snprintf(buffer, size, "%.*s", (int) length, text);
        }
        BIO_free(bio);
        X509_free(cert);
        return r;
}
