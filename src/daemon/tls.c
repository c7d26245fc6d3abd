/* tls.c - see tls.h. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "daemon/peeraddr.h"
#include "daemon/tls.h"
#include "log.h"

/* TLS 1.2 suites: ECDHE key exchange (forward secrecy) with an AEAD cipher
 * only, ECDSA and RSA certificates.  TLS 1.3 keeps OpenSSL's default
 * suites, which are all AEAD. */
#define WSP_TLS12_CIPHERS                                                     \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"          \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"          \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static SSL_CTX *live_ctx;
static unsigned long hs_failures;
static wsp_log_limit hs_fail_rl;

/* A certificate, its chain and its key, read and checked, not yet in use. */
struct keypair {
	X509 *cert;
	STACK_OF(X509) *chain;
	EVP_PKEY *key;
};

static void keypair_cleanup(struct keypair *kp)
{
	X509_free(kp->cert);
	sk_X509_pop_free(kp->chain, X509_free);
	EVP_PKEY_free(kp->key);
	memset(kp, 0, sizeof(*kp));
}

/* OpenSSL's reason for the last error, or `fallback`. */
static const char *ssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : fallback;
}

/* Never ask for a passphrase (OpenSSL would prompt on the terminal). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static BIO *open_pem(const char *key, const char *path, wsp_error *err)
{
	FILE *f = fopen(path, "r");
	BIO *b;

	if (!f) {
		wsp_error_set(err, WSP_ERR_IO, "%s %s: %s", key, path, strerror(errno));
		return NULL;
	}
	b = BIO_new_fp(f, BIO_CLOSE);
	if (!b) {
		fclose(f);
		wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
	}
	return b;
}

/* Read cfg's certificate chain and key into kp and check that they belong
 * together.  0, or a negative WSP_ERR_* naming the key and file. */
static int keypair_read(struct keypair *kp, const wsp_config *cfg, wsp_error *err)
{
	BIO *b;
	X509 *x;
	int rc = 0;

	memset(kp, 0, sizeof(*kp));
	ERR_clear_error();
	b = open_pem("tls_cert_file", cfg->tls_cert_file, err);
	if (!b)
		return err ? err->code : WSP_ERR_IO;
	kp->cert = PEM_read_bio_X509_AUX(b, NULL, no_passphrase, NULL);
	if (!kp->cert) {
		rc = wsp_error_set(err, WSP_ERR_INVALID, "tls_cert_file %s: no PEM certificate (%s)",
				   cfg->tls_cert_file, ssl_reason("unreadable"));
		goto out;
	}
	kp->chain = sk_X509_new_null();
	if (!kp->chain) {
		rc = wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The rest of the file is the chain, in order; its end is the
	 * "no start line" error, anything else is a damaged certificate. */
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL) {
		if (!sk_X509_push(kp->chain, x)) {
			X509_free(x);
			rc = wsp_error_set(err, WSP_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		rc = wsp_error_set(err, WSP_ERR_INVALID, "tls_cert_file %s: certificate %d of the chain: %s",
				   cfg->tls_cert_file, sk_X509_num(kp->chain) + 2, ssl_reason("unreadable"));
		goto out;
	}
	ERR_clear_error();
	BIO_free(b);
	b = open_pem("tls_key_file", cfg->tls_key_file, err);
	if (!b) {
		rc = err ? err->code : WSP_ERR_IO;
		goto out;
	}
	kp->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	if (!kp->key) {
		rc = wsp_error_set(err, WSP_ERR_INVALID,
				   "tls_key_file %s: no unencrypted PEM private key (%s)", cfg->tls_key_file,
				   ssl_reason("unreadable"));
		goto out;
	}
	if (X509_check_private_key(kp->cert, kp->key) != 1) {
		rc = wsp_error_set(err, WSP_ERR_INVALID,
				   "tls_key_file %s does not match the certificate in tls_cert_file %s",
				   cfg->tls_key_file, cfg->tls_cert_file);
		goto out;
	}
out:
	BIO_free(b);
	ERR_clear_error();
	if (rc < 0)
		keypair_cleanup(kp);
	return rc;
}

/* Put kp into ctx at once (certificate, chain and key together). */
static int keypair_use(SSL_CTX *ctx, struct keypair *kp, const wsp_config *cfg, wsp_error *err)
{
	if (SSL_CTX_use_cert_and_key(ctx, kp->cert, kp->key, kp->chain, 1) != 1) {
		wsp_error_set(err, WSP_ERR_INVALID, "tls_cert_file %s: OpenSSL refuses it: %s",
			      cfg->tls_cert_file, ssl_reason("unknown reason"));
		ERR_clear_error();
		return WSP_ERR_INVALID;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(kp->cert)) < 0)
		wsp_warn(NULL, "tls_cert_file %s: the certificate has expired", cfg->tls_cert_file);
	return 0;
}

bool wsp_tls_enabled(const wsp_config *cfg)
{
	return (cfg->tls_cert_file && *cfg->tls_cert_file) || (cfg->tls_key_file && *cfg->tls_key_file);
}

int wsp_tls_check(const wsp_config *cfg, wsp_error *err)
{
	struct keypair kp;
	int rc;

	if (!wsp_tls_enabled(cfg))
		return 0;
	if (!*cfg->tls_cert_file || !*cfg->tls_key_file)
		return wsp_error_set(err, WSP_ERR_INVALID, "%s is set but %s is not: TLS needs both",
				     *cfg->tls_cert_file ? "tls_cert_file" : "tls_key_file",
				     *cfg->tls_cert_file ? "tls_key_file" : "tls_cert_file");
	rc = keypair_read(&kp, cfg, err);
	if (rc == 0)
		keypair_cleanup(&kp);
	return rc;
}

/* OpenSSL calls this on handshake events; SSL_CB_ACCEPT_EXIT with ret <= 0
 * is either "needs more bytes" (nothing on the error queue) or a failure
 * (its reason on the queue, where lws finds it next). */
static void info_cb(const SSL *ssl, int where, int ret)
{
	unsigned long e;
	char peer[64];

	if ((where & SSL_CB_ACCEPT_EXIT) != SSL_CB_ACCEPT_EXIT || ret > 0)
		return;
	e = ERR_peek_error();
	if (!e)
		return;
	hs_failures++;
	if (!wsp_log_limit_ok(&hs_fail_rl, 10, WSP_LOG_WARN, "TLS handshakes failed"))
		return;
	if (wsp__peer_text(SSL_get_fd(ssl), peer, sizeof(peer), "unix socket") < 0)
		snprintf(peer, sizeof(peer), "a peer already gone");
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST)
		wsp_warn(NULL, "connection from %s: plain HTTP on the TLS port, closing", peer);
	else
		wsp_warn(NULL, "connection from %s: TLS handshake failed: %s, closing", peer,
			 ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown reason");
}

int wsp_tls_setup(void *ssl_ctx, const wsp_config *cfg, wsp_error *err)
{
	SSL_CTX *ctx = ssl_ctx;
	struct keypair kp;
	int rc;

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, WSP_TLS12_CIPHERS) != 1) {
		ERR_clear_error();
		return wsp_error_set(err, WSP_ERR_INTERNAL, "OpenSSL refuses the TLS 1.2+ settings");
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_info_callback(ctx, info_cb);
	rc = keypair_read(&kp, cfg, err);
	if (rc < 0)
		return rc;
	rc = keypair_use(ctx, &kp, cfg, err);
	keypair_cleanup(&kp);
	if (rc < 0)
		return rc;
	live_ctx = ctx;
	return 0;
}

int wsp_tls_reload(const wsp_config *cfg, wsp_error *err)
{
	struct keypair kp;
	int rc;

	if (!live_ctx)
		return 1;
	if (!*cfg->tls_cert_file || !*cfg->tls_key_file)
		return wsp_tls_check(cfg, err);   /* the "needs both" error */
	rc = keypair_read(&kp, cfg, err);
	if (rc < 0)
		return rc;
	rc = keypair_use(live_ctx, &kp, cfg, err);
	keypair_cleanup(&kp);
	return rc;
}

unsigned long wsp_tls_handshake_failures(void)
{
	return hs_failures;
}

void wsp_tls_cleanup(void)
{
	live_ctx = NULL;
}
