// torture.test.mjs - the WebSocket protocol torture suite on a plain port
// (the cases: lib/torture-suite.mjs; the same over TLS: torture-tls.test.mjs).
import { tortureSuite } from './lib/torture-suite.mjs';

tortureSuite({ tls: false });
