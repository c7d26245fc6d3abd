// torture-tls.test.mjs - the WebSocket protocol torture suite over TLS
// (direct mode: wspulsed with tls_cert_file/tls_key_file and a test CA).
// Every case of lib/torture-suite.mjs, the frame pre-check on decrypted bytes
// included: wspulsed must answer each with the same close code as on a plain
// port, through TLS.
import { tortureSuite } from './lib/torture-suite.mjs';

tortureSuite({ tls: true });
