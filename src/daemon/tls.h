/* tls.h - direct mode: wspulsed speaks TLS (wss://) on `listen` itself.
 *
 * With `tls_cert_file` and `tls_key_file` set, every connection accepted on
 * `listen` is TLS.  libwebsockets 4.1.6 does the record layer with the
 * system's OpenSSL: proto.c creates the vhost with
 * LWS_SERVER_OPTION_CREATE_VHOST_SSL_CTX and no file names, so lws makes an
 * empty SSL_CTX and hands it to us (LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_
 * VERIFY_CERTS) and every setting lives here: TLS 1.2 and 1.3 only, forward
 * secret AEAD ciphers only for 1.2 (OpenSSL's defaults for 1.3), the
 * certificate chain and key read by us, so that a bad file is one clear
 * error naming it (lws would skip a missing file silently), and the same
 * code re-reads them on SIGHUP.
 *
 * A certificate is re-read into the live SSL_CTX (SIGHUP, reload.c): OpenSSL copies the
 * context's certificate into each connection when it is created, so open
 * connections keep theirs and every handshake after the reload sees the new
 * one.  Nothing is closed.  If the new files are bad (missing, unreadable,
 * not PEM, key not matching) the old certificate stays and the reason is
 * logged.
 *
 * A failed handshake (a plain-HTTP request on the TLS port, no common
 * protocol version or cipher, a client refusing our certificate, a peer
 * that hangs up mid-handshake) is one warn line naming the peer and
 * OpenSSL's reason, at most 10 a second (the rest counted); lws closes the
 * connection and the daemon carries on.
 *
 * Frames on TLS connections are pre-checked on the decrypted bytes: see
 * rxhook.h.  All functions run on the loop thread.
 */
#ifndef WSP_TLS_H
#define WSP_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "error.h"

/* True when the config asks for TLS on listen (either key set; both are
 * then required, see wsp_tls_check). */
bool wsp_tls_enabled(const wsp_config *cfg);

/* Check the TLS keys without touching any live state: both set or both
 * empty, listen not a unix socket, each file readable PEM, the key matching
 * the certificate.  Returns 0, or WSP_ERR_INVALID / WSP_ERR_IO with a text
 * naming the key and the file in err.  --check-config, start-up and every
 * SIGHUP reload run it. */
int wsp_tls_check(const wsp_config *cfg, wsp_error *err);

/* Configure ssl_ctx (an SSL_CTX * lws created for the vhost): protocol
 * versions, ciphers, the certificate chain and key from cfg's files, the
 * handshake-failure log.  Remembers ssl_ctx (lws frees it with the
 * context) for wsp_tls_reload.  Returns 0 or a negative WSP_ERR_* (err
 * names the file). */
int wsp_tls_setup(void *ssl_ctx, const wsp_config *cfg, wsp_error *err);

/* Read cfg's certificate and key (SIGHUP: reload.c) into the live SSL_CTX.
 * Returns 0 (new handshakes get the new certificate), 1 when TLS is not in
 * use, or a negative WSP_ERR_* with the reason in err (the old certificate
 * stays). */
int wsp_tls_reload(const wsp_config *cfg, wsp_error *err);

/* How many TLS handshakes have failed in this process (each one is, or
 * was rate-limited from, a warn line): lets the accept path tell a
 * connection lws refused because its handshake failed at once (already
 * logged here) from one it could not take for another reason. */
unsigned long wsp_tls_handshake_failures(void);

/* Forget the SSL_CTX (lws frees it with the context). */
void wsp_tls_cleanup(void);

#endif
