/*
 * jpulse-ws.mjs — ES module entry of the jPulse.ws client.
 *
 *   import ws from '/jpulse-ws.mjs';          // or: import { connect } from ...
 *   const chat = ws.connect('/api/1/ws/chat');
 *
 * It loads jpulse-ws.js for its side effect (which sets globalThis.jPulse.ws
 * without replacing an existing globalThis.jPulse) and re-exports that object,
 * so a page mixing <script> and module code shares one registry of connections.
 * Web servers must serve .mjs as JavaScript (nginx: add `mjs` to the
 * application/javascript line of mime.types); where that is not possible,
 * `import '/jpulse-ws.js'` works too and leaves jPulse.ws on globalThis.
 */
import './jpulse-ws.js';

const ws = globalThis.jPulse.ws;

export default ws;
export { ws };
export const connect = (path, options) => ws.connect(path, options);
export const getConnections = () => ws.getConnections();
export const configure = (options) => ws.configure(options);
export const getClientUUID = (storage) => ws.getClientUUID(storage);
