/* A test PKI made at test time with libcrypto (no openssl tool needed): two
 * unrelated CAs and the certificates the TLS tests present, as PEM files in
 * one directory. EC keys (P-256), so making one takes milliseconds.
 *
 *   ca              the CA the server and the good client certificates come from
 *   server_*        signed by ca for DNS:localhost, IP:127.0.0.1, IP:::1
 *   client_*        signed by ca, subject CN=client.example,O=hark tests
 *   other_ca        a second CA that nobody trusts
 *   other_client_*  signed by other_ca, subject CN=other.example,O=hark tests
 *   expired_*       signed by ca, subject CN=expired.example,O=hark tests,
 *                   valid from 30 days ago until yesterday
 *
 * Key files are unencrypted PKCS#8. */
#pragma once

#include <stddef.h>

#define TEST_PKI_PATH 256

struct test_pki {
        char dir[TEST_PKI_PATH];
        char ca[TEST_PKI_PATH], ca_key[TEST_PKI_PATH];
        char server_cert[TEST_PKI_PATH], server_key[TEST_PKI_PATH];
        char client_cert[TEST_PKI_PATH], client_key[TEST_PKI_PATH];
        char other_ca[TEST_PKI_PATH], other_ca_key[TEST_PKI_PATH];
        char other_client_cert[TEST_PKI_PATH], other_client_key[TEST_PKI_PATH];
        char expired_cert[TEST_PKI_PATH], expired_key[TEST_PKI_PATH];
};

/* The subject alternative names of the server certificates by default. */
#define TEST_PKI_SERVER_SAN "DNS:localhost,IP:127.0.0.1,IP:::1"

/* Makes all of the PKI's files in dir (an existing directory), names them in
 * *pki. Returns 0 or -errno (-EIO for a libcrypto failure, printed). */
int test_pki_create(struct test_pki *pki, const char *dir);

/* Makes another server certificate and key signed by pki's ca, for names
 * san (in openssl's subjectAltName syntax, e.g. "DNS:example.org,IP:10.0.0.1";
 * NULL: TEST_PKI_SERVER_SAN), as <dir>/<stem>.crt and <dir>/<stem>.key,
 * whose paths go to cert and key. Its subject is CN=<stem>,O=hark tests.
 * For rotation tests and for servers with a name the client does not ask
 * for. Returns 0 or -errno. */
int test_pki_new_server(const struct test_pki *pki, const char *stem, const char *san,
                        char cert[TEST_PKI_PATH], char key[TEST_PKI_PATH]);

/* Makes another client certificate and key signed by pki's ca, as
 * <dir>/<stem>.crt and <dir>/<stem>.key (paths to cert and key), subject
 * CN=<stem>,O=hark tests, for a peer with an identity of its own (a relay).
 * Returns 0 or -errno. */
int test_pki_new_client(const struct test_pki *pki, const char *stem, char cert[TEST_PKI_PATH],
                        char key[TEST_PKI_PATH]);

/* The SHA-256 fingerprint of the certificate in the PEM file path, as
 * `openssl x509 -noout -fingerprint -sha256` prints it after its '=':
 * uppercase hex pairs joined by ':' (95 characters). size >= 96.
 * Returns 0 or -errno. */
int test_cert_sha256(const char *path, char *buffer, size_t size);

/* The subject of the certificate in path as one line of RFC 2253 text
 * (X509_NAME_print_ex with XN_FLAG_RFC2253), e.g.
 * "O=hark tests,CN=client.example". Returns 0, -ENOBUFS when it does not
 * fit, or -errno. */
int test_cert_subject(const char *path, char *buffer, size_t size);
