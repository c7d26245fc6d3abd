// stack.mjs - start the real wspulse stack for integration tests.
//
// Everything is real: a throwaway PostgreSQL cluster (scripts/wspulse-pg.sh,
// own data and socket dir under /tmp, removed afterwards), wspulse-admin,
// wspulsed, wspulse.fcgi and nginx with the shipped nginx/wspulse.conf, all on
// free loopback ports.  Set WSPULSE_KEEP=1 to keep the temp dirs for
// debugging, WSPULSE_TEST_URL to point simple tests at a running stack.
import { spawn, spawnSync, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { upgradeStatus } from './rawclient.mjs';

export const builddir = process.env.WSPULSE_BUILDDIR || path.resolve('.');
export const srcdir = process.env.WSPULSE_SRCDIR || builddir;
export const bin = {
  daemon: path.join(builddir, 'src/wspulsed'),
  fcgi: path.join(builddir, 'fcgi/wspulse.fcgi'),
  admin: path.join(builddir, 'src/wspulse-admin'),
  pgListen: path.join(builddir, 'tests/integration/helpers/pg-listen'),
  pg: path.join(srcdir, 'scripts/wspulse-pg.sh'),
  nginx: process.env.NGINX && process.env.NGINX !== 'no' ? process.env.NGINX : '/usr/sbin/nginx',
};

// WSPULSE_VALGRIND=1 (make check-valgrind) runs wspulsed and wspulse.fcgi
// under valgrind memcheck: any invalid access or definite leak makes the
// program exit 99 and leaves a report in its log, which fails the test file
// (see s.stop).  Everything is ~20x slower, so start-up waits stretch too.
export const valgrind = !!process.env.WSPULSE_VALGRIND && process.env.WSPULSE_VALGRIND !== '0';
export const slow = valgrind ? 6 : 1;
const VALGRIND_ARGS = ['--quiet', '--leak-check=full', '--errors-for-leak-kinds=definite',
  '--show-leak-kinds=definite', '--error-exitcode=99', '--track-origins=yes', '--num-callers=30',
  ...(process.env.WSPULSE_VALGRIND_SUPP ? [`--suppressions=${process.env.WSPULSE_VALGRIND_SUPP}`] : [])];

/** cmd/args, wrapped in valgrind when WSPULSE_VALGRIND is set. */
export function underValgrind(cmd, args) {
  return valgrind ? ['valgrind', [...VALGRIND_ARGS, cmd, ...args]] : [cmd, args];
}

const children = new Set();
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch {} });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A free TCP port on 127.0.0.1 (bound then released), never one this process
 * was given before: the kernel may hand the port just released to the next
 * bind(0), and a stack whose daemon and wspulse.fcgi got the same port ran
 * with the daemon answering nginx's FastCGI (every request 502).
 */
const portsGiven = new Set();
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.unref();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    });
    if (!portsGiven.has(port)) { portsGiven.add(port); return port; }
  }
}

/**
 * Whether process pid itself holds a listening TCP socket on port (from
 * /proc/net/tcp and the process's descriptors): that a port accepts does not
 * say who listens on it.
 */
export function listensOn(pid, port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/);
      if (c.length > 9 && c[1].endsWith(':' + hex) && c[3] === '0A') inodes.add(c[9]);
    }
  }
  if (!inodes.size) return false;
  let fds = [];
  try { fds = fs.readdirSync(`/proc/${pid}/fd`); } catch { return false; }
  return fds.some((fd) => {
    try { const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`)); return m && inodes.has(m[1]); } catch { return false; }
  });
}

export function tmpdir(prefix = 'wsp-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o755);
  return d;
}

/**
 * The first sanitizer or valgrind report in a program's output, or null.
 * Under `configure --enable-asan` (ASan, LeakSanitizer, UBSan with
 * -fno-sanitize-recover) and under WSPULSE_VALGRIND=1 a report is always a
 * bug, even when the program's exit status is what the test expected.
 */
export function sanitizerReport(text) {
  const m = /==\d+==ERROR: \w+Sanitizer[^]*|^.*runtime error: [^]*|==\d+== (?:Invalid|Conditional|Use of uninitialised|Syscall param|Mismatched|Source and destination)[^]*|==\d+== [\d,]+ (?:\([\d,]+ direct, [\d,]+ indirect\) )?bytes in [\d,]+ blocks are definitely lost[^]*|==\d+== ERROR SUMMARY: [1-9][^]*|==\d+==\s+definitely lost: [1-9][^]*/m.exec(text || '');
  return m ? m[0].slice(0, 4000) : null;
}

/** Run a program to completion; returns {status, stdout, stderr}.  Throws if
 * the program printed a sanitizer report. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000, ...opts });
  const out = { status: r.status, stdout: r.stdout || '', stderr: r.stderr || '', signal: r.signal };
  const report = sanitizerReport(out.stderr);
  if (report) throw new Error(`${path.basename(cmd)} ${args.join(' ')}: memory error report:\n${report}`);
  return out;
}

/** For start()'s env when it starts nginx: `make` exports NGINX (the binary's
 * path), and nginx reads that variable as a list of inherited sockets
 * ("[emerg] invalid socket number"); undefined leaves it out. */
export const NGINX_ENV = { NGINX: undefined };

/** Start a long-running program; its output goes to logfile. */
export function start(cmd, args, { log, env, cwd } = {}) {
  const fd = log ? fs.openSync(log, 'a') : 'ignore';
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env }, cwd });
  children.add(child);
  child.exited = new Promise((resolve) => child.on('exit', (code, sig) => { children.delete(child); resolve({ code, sig }); }));
  return child;
}

export async function stop(child, sig = 'SIGTERM', ms = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exited;
  child.kill(sig);
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  const r = await child.exited;
  clearTimeout(t);
  return r;
}

/** Poll fn until it returns truthy (or throw after ms). */
/** Poll fn until it returns a truthy value (returned) or ms pass; `what`
 * names the condition in the error, a string or a function called then
 * (so the message can say how far it got). */
export async function waitFor(fn, ms = 10000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}${last ? ': ' + last.message : ''}`);
}

/**
 * Resolve as p does, or reject after ms with "timed out after <ms> ms waiting
 * for <what>": every wait on a promise that may never settle (a close, an
 * exit) gets a bound and a message saying what did not happen.
 */
export function within(p, ms, what) {
  let t;
  const limit = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(t));
}

/** A private PostgreSQL cluster with the wspulse schema applied. */
export async function startPostgres({ schema = true } = {}) {
  const dir = tmpdir('wsp-pg-');
  const data = path.join(dir, 'data');
  let r = run(bin.pg, ['init', data]);
  if (r.status !== 0) throw new Error('initdb: ' + r.stderr);
  r = run(bin.pg, ['start', data]);
  if (r.status !== 0) throw new Error('pg start: ' + r.stderr);
  const conninfo = run(bin.pg, ['conninfo', data]).stdout.trim();
  const pg = {
    dir, data, conninfo,
    psql(sql, db = 'wspulse') {
      const r = run('psql', [conninfo.replace('dbname=wspulse', `dbname=${db}`), '-qtAX', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
      if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
      return r.stdout.trim();
    },
    /** As psql, without blocking the event loop (clients keep reading). */
    psqlAsync(sql, db = 'wspulse') {
      return new Promise((resolve, reject) => {
        execFile('psql', [conninfo.replace('dbname=wspulse', `dbname=${db}`), '-qtAX', '-v', 'ON_ERROR_STOP=1', '-c', sql],
          { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`psql: ${stderr}`)) : resolve(stdout.trim())));
      });
    },
    start() { const r = run(bin.pg, ['start', data]); if (r.status !== 0) throw new Error(r.stderr); },
    stopServer() { run(bin.pg, ['stop', data]); },
    async stop() {
      run(bin.pg, ['stop', data]);
      if (!process.env.WSPULSE_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  pg.psql('CREATE DATABASE wspulse', 'postgres');
  if (schema) {
    r = run(bin.admin, ['-d', conninfo, 'init-db', '--migrations', path.join(srcdir, 'db')]);
    if (r.status !== 0) throw new Error('init-db: ' + r.stderr);
  }
  return pg;
}

/** Add a user through the real admin tool. */
export function addUser(pg, name, password, roles = []) {
  const args = ['-d', pg.conninfo, 'user', 'add', name];
  if (roles.length) args.push('--roles', roles.join(','));
  const r = run(bin.admin, args, { input: password + '\n' });
  if (r.status !== 0) throw new Error(`user add ${name}: ${r.stderr}`);
}

/**
 * Write a config file; `extra` adds or overrides keys (arrays repeat the key).
 * The tests exercise the demo's namespaces and /api/1/helloTodo, so `demo = on`
 * is written unless settings name `demo` (`demo: 'off'`, or null for the
 * built-in default, off).
 */
export function writeConfig(dir, settings) {
  const lines = ['# written by tests/integration/lib/stack.mjs'];
  if (!('demo' in settings)) lines.push('demo = on');
  for (const [k, v] of Object.entries(settings)) {
    if (v === undefined || v === null) continue;
    for (const item of Array.isArray(v) ? v : [v]) lines.push(`${k} = ${item}`);
  }
  const file = path.join(dir, 'wspulse.conf');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function httpOk(url) {
  const res = await fetch(url);
  return res.ok;
}

/**
 * A test CA and a server certificate it signed, made with the openssl
 * command in dir: for DNS names `names`, localhost and 127.0.0.1, chain (leaf, then
 * the CA) in cert.pem, key in key.pem.  `tag` distinguishes several
 * certificates in one directory (a renewal).  Returns { caFile, ca,
 * certFile, keyFile, fingerprint } (fingerprint: the leaf's SHA-256 as
 * node:tls reports it).
 */
export function makeTestCert(dir, { names = ['localhost'], tag = '', days = 2, ca: caIn } = {}) {
  const f = (n) => path.join(dir, `${tag}${n}`);
  const ossl = (...args) => {
    const r = run('openssl', args);
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const ca = caIn || { caFile: f('ca.pem'), caKey: f('ca.key') };
  if (!caIn) {
    ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', ca.caKey,
      '-out', ca.caFile, '-days', String(days), '-subj', `/CN=wspulse test CA ${tag}${process.pid}`);
  }
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('key.pem'),
    '-out', f('req.csr'), '-subj', `/CN=${names[0]}`);
  const dns = [...new Set([...names, 'localhost'])];
  fs.writeFileSync(f('ext.cnf'), `subjectAltName=${[...dns.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',')}\n`);
  ossl('x509', '-req', '-in', f('req.csr'), '-CA', ca.caFile, '-CAkey', ca.caKey, '-CAcreateserial',
    '-out', f('leaf.pem'), '-days', String(days), '-extfile', f('ext.cnf'));
  fs.writeFileSync(f('cert.pem'), fs.readFileSync(f('leaf.pem'), 'utf8') + fs.readFileSync(ca.caFile, 'utf8'));
  fs.chmodSync(f('key.pem'), 0o600);
  const fingerprint = ossl('x509', '-in', f('leaf.pem'), '-noout', '-fingerprint', '-sha256').trim().split('=')[1];
  return { ...ca, ca: fs.readFileSync(ca.caFile, 'utf8'), certFile: f('cert.pem'), keyFile: f('key.pem'), fingerprint };
}

/**
 * GET url (http: or https:, trusting `ca`); resolves { status, json, text,
 * cert } (cert: the peer certificate over TLS).
 */
export function httpGet(url, { ca } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : null;
    if (!mod) {
      fetch(url).then(async (res) => {
        const text = await res.text();
        let json = null;
        try { json = JSON.parse(text); } catch {}
        resolve({ status: res.status, text, json, cert: null });
      }, reject);
      return;
    }
    const req = https.get(url, { ca, servername: 'localhost', agent: false }, (res) => {
      let text = '';
      const cert = res.socket.getPeerCertificate?.();
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch {}
        resolve({ status: res.statusCode, text, json, cert });
      });
    });
    req.on('error', reject);
  });
}

/**
 * A signed session cookie for `user` without the REST login
 * (tests/tools/wsp-mint-session inserts the wsp_sessions row).  Options:
 * roles ("a,b", default: the user's roles), ttl (s), row (false: no row).
 * Returns { cookie: 'wsp_session=...', value, sid }.
 */
export function mintSession(s, user, { roles, ttl, row = true } = {}) {
  const args = ['-c', s.config, user];
  if (roles !== undefined) args.push('--roles', roles);
  if (ttl !== undefined) args.push('--ttl', String(ttl));
  if (!row) args.push('--no-row');
  const r = run(path.join(builddir, 'tests/tools/wsp-mint-session'), args);
  if (r.status !== 0) throw new Error('wsp-mint-session: ' + r.stderr);
  const [value, sid] = r.stdout.trim().split(' ');
  return { cookie: `wsp_session=${value}`, value, sid };
}

/**
 * The arguments after the format on nginx/wspulse-site.conf's access_log line
 * (its buffering, e.g. " buffer=64k flush=1s"; "" when it has none), so a
 * stack with accessLogBuffer logs exactly as the shipped site does.
 */
export function siteAccessLogBuffer() {
  const site = fs.readFileSync(path.join(srcdir, 'nginx/wspulse-site.conf.in'), 'utf8');
  const m = site.match(/^\s*access_log \S+ wspulse([^;]*);/m);
  if (!m) throw new Error('nginx/wspulse-site.conf.in has no access_log line with the wspulse format');
  return m[1];
}

/**
 * Start the whole stack.  Options: users [{name,password,roles}], config
 * (extra keys for both programs), nginx (default true), fcgi (default true),
 * tls (wspulsed speaks TLS with a test CA: true or makeTestCert options),
 * nginxTls (nginx serves https with the same certificate), nginxRoot (its
 * document root and $wspulse_www instead of www/: a site's own copy), ports ({ daemon, http } to use),
 * pg (share a running startPostgres()), upstreams (more wspulsed addresses
 * for nginx's round-robin upstream, e.g. daemons started separately),
 * nginxHttp / nginxServer (config text added to nginx's http / server block),
 * accessLogBuffer (the access log buffered as nginx/wspulse-site.conf ships
 * it; off by default, so a test reads every request's line at once).
 * Returns { url, wsUrl, pg, dir, config, daemonPort, fcgiPort, ... , stop() }.
 */
export async function startStack(opts = {}) {
  const pg = opts.pg || await startPostgres();
  const dir = tmpdir('wsp-stack-');
  // tls: wspulsed speaks TLS on its port (direct mode), with a test CA
  // (true, or makeTestCert's options such as { names }).
  const tls = opts.tls ? makeTestCert(dir, opts.tls === true ? {} : opts.tls) : null;
  // ports: { daemon, http } chosen by the caller (a page must name them).
  const daemonPort = opts.ports?.daemon || await freePort();
  const fcgiPort = await freePort();
  const httpPort = opts.ports?.http || await freePort();
  const secret = path.join(dir, 'secret');
  run(bin.admin, ['gen-secret', secret]);
  const token = 'test-token-' + Math.random().toString(16).slice(2);
  const tokenFile = path.join(dir, 'api-token');
  fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  for (const u of opts.users || []) addUser(pg, u.name, u.password, u.roles || []);
  const settings = {
    database: pg.conninfo,
    secret_file: secret,
    api_token_file: tokenFile,
    listen: `127.0.0.1:${daemonPort}`,
    fcgi_listen: `127.0.0.1:${fcgiPort}`,
    www_root: path.join(srcdir, 'www'),
    log_level: 'debug',
    ...(tls ? { tls_cert_file: tls.certFile, tls_key_file: tls.keyFile } : {}),
    ...(opts.config || {}),
  };
  const config = writeConfig(dir, settings);
  const s = {
    pg, dir, config, settings, token, daemonPort, fcgiPort, httpPort,
    url: `${opts.nginxTls ? 'https' : 'http'}://127.0.0.1:${httpPort}`,
    wsUrl: `${opts.nginxTls ? 'wss' : 'ws'}://127.0.0.1:${httpPort}`,
    daemonUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${daemonPort}`,
    tls,
    /** GET the daemon's /health (over TLS when it speaks TLS): {status, json}. */
    health: () => httpGet(`${s.daemonUrl}/health`, { ca: tls?.ca }),
    log: (name) => { try { return fs.readFileSync(path.join(dir, name), 'utf8'); } catch { return ''; } },
  };
  s.startDaemon = async (extraArgs = []) => {
    s.daemon = start(...underValgrind(bin.daemon, ['-c', config, ...extraArgs]), { log: path.join(dir, 'wspulsed.log') });
    await waitFor(async () => (await s.health()).status === 200, 10000 * slow, 'wspulsed /health');
    return s.daemon;
  };
  s.stopDaemon = (sig) => stop(s.daemon, sig);
  s.startFcgi = async () => {
    s.fcgi = start(...underValgrind(bin.fcgi, ['-c', config, '--listen', `127.0.0.1:${fcgiPort}`]), { log: path.join(dir, 'wspulse.fcgi.log') });
    // Its own listening socket (under valgrind the pid is valgrind's, which is the program).
    await waitFor(() => {
      if (s.fcgi.exitCode !== null || s.fcgi.signalCode !== null)
        throw new Error(`wspulse.fcgi exited at start (code ${s.fcgi.exitCode}, signal ${s.fcgi.signalCode}):\n${s.log('wspulse.fcgi.log')}`);
      return listensOn(s.fcgi.pid, fcgiPort);
    }, 10000 * slow, `wspulse.fcgi listening on ${fcgiPort}`);
    return s.fcgi;
  };
  s.startNginx = async () => {
    for (const f of ['fastcgi_params', 'mime.types']) fs.copyFileSync(`/etc/nginx/${f}`, path.join(dir, f));
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(conf, `${process.getuid() === 0 ? 'user root root;' : ''}
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  include mime.types;
  include ${path.join(srcdir, 'nginx/wspulse-log.conf')};
  access_log ${dir}/nginx-access.log wspulse${opts.accessLogBuffer ? siteAccessLogBuffer() : ''};
  client_body_temp_path ${dir}/tmp-body;
  proxy_temp_path ${dir}/tmp-proxy;
  fastcgi_temp_path ${dir}/tmp-fastcgi;
  uwsgi_temp_path ${dir}/tmp-uwsgi;
  scgi_temp_path ${dir}/tmp-scgi;
  upstream wspulse_daemon { server 127.0.0.1:${daemonPort} max_fails=0;${(opts.upstreams || []).map((a) => ` server ${a} max_fails=0;`).join('')} }
  upstream wspulse_fcgi { server 127.0.0.1:${fcgiPort} max_fails=0; keepalive 16; }
  map $host $wspulse_www { default ${opts.nginxRoot || path.join(srcdir, 'www')}; }
  ${opts.nginxHttp || ''}
  server {
    listen 127.0.0.1:${httpPort}${opts.nginxTls ? ` ssl;\n    ssl_certificate ${tls.certFile};\n    ssl_certificate_key ${tls.keyFile}` : ''};
    root ${opts.nginxRoot || path.join(srcdir, 'www')};
    include ${path.join(srcdir, 'nginx/wspulse.conf')};
    ${opts.nginxServer || ''}
  }
}
`);
    s.nginx = start(bin.nginx, ['-p', dir, '-c', conf, '-e', path.join(dir, 'nginx-error.log')], { log: path.join(dir, 'nginx.out'), env: NGINX_ENV });
    await waitFor(async () => (await httpGet(`${s.url}/index.html`, { ca: tls?.ca })).status === 200, 10000, 'nginx');
    return s.nginx;
  };
  s.stop = async () => {
    // A file whose every request got 502 (seen rarely under ASan in CI) left nothing to say
    // why once the stack's directory was gone: print, into the test's log, any program that
    // was no longer running (a test may have stopped it on purpose) and nginx's upstream
    // errors, before the directory goes.
    const diag = [];
    for (const [name, child, file] of [['wspulse.fcgi', s.fcgi, 'wspulse.fcgi.log'], ['wspulsed', s.daemon, 'wspulsed.log']])
      if (child && (child.exitCode !== null || child.signalCode !== null))
        diag.push(`${name} (pid ${child.pid}) was not running at stop: exit code ${child.exitCode}, signal ${child.signalCode}; `
          + `the end of ${file}:\n${s.log(file).split('\n').slice(-30).join('\n')}`);
    const upstream = s.log('nginx-error.log').split('\n').filter((l) => /upstream|connect\(\) (?:to .* )?failed/.test(l));
    if (upstream.length) diag.push(`nginx-error.log: ${upstream.length} upstream error line(s), the first:\n${upstream.slice(0, 5).join('\n')}`);
    if (diag.length) console.error(`stack.mjs, stack in ${dir}:\n${diag.join('\n')}`);
    const [, fcgiExit, daemonExit] = await Promise.all([stop(s.nginx), stop(s.fcgi, 'SIGTERM', 5000 * slow), stop(s.daemon, 'SIGTERM', 5000 * slow)]);
    if (valgrind) {
      // Exit 99 is valgrind's --error-exitcode; the report is in the log.
      for (const [f, e] of [['wspulse.fcgi.log', fcgiExit], ['wspulsed.log', daemonExit]])
        if (e?.code === 99) fs.appendFileSync(path.join(dir, f), '==0== ERROR SUMMARY: 1+ errors (valgrind exit 99)\n');
    }
    // Both programs exit cleanly on SIGTERM, so a sanitizer/valgrind run
    // reports leaks and bad accesses into their logs: any report fails the
    // test file that started them.
    const reports = ['wspulsed.log', 'wspulse.fcgi.log']
      .map((f) => [f, sanitizerReport(s.log(f))]).filter(([, r]) => r);
    if (!opts.pg) await pg.stop();
    if (!process.env.WSPULSE_KEEP && !reports.length) fs.rmSync(dir, { recursive: true, force: true });
    if (reports.length) throw new Error(reports.map(([f, r]) => `memory error report in ${dir}/${f}:\n${r}`).join('\n'));
  };
  try {
    await s.startDaemon();
    if (opts.fcgi !== false) await s.startFcgi();
    if (opts.nginx !== false) await s.startNginx();
  } catch (e) {
    const logs = ['wspulsed.log', 'wspulse.fcgi.log', 'nginx-error.log'].map((f) => `--- ${f}\n${s.log(f)}`).join('\n');
    await s.stop();
    throw new Error(`${e.message}\n${logs}`);
  }
  return s;
}

/** Open a WebSocket and collect its messages; resolves once open. */
export function openWs(url, { headers, protocols } = {}) {
  return new Promise((resolve, reject) => {
    const ws = headers ? new WebSocket(url, { headers, protocols }) : new WebSocket(url, protocols);
    ws.messages = [];
    ws.waiters = [];
    ws.addEventListener('message', (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { m = { raw: ev.data }; }
      ws.messages.push(m);
      for (const w of [...ws.waiters]) if (w.pred(m)) { ws.waiters.splice(ws.waiters.indexOf(w), 1); w.resolve(m); }
    });
    ws.closed = new Promise((r) => ws.addEventListener('close', (ev) => r({ code: ev.code, reason: ev.reason })));
    /** Resolve with the first message (past or future) matching pred. */
    ws.next = (pred = () => true, ms = 5000) => {
      const hit = ws.messages.find(pred);
      if (hit) { ws.messages.splice(ws.messages.indexOf(hit), 1); return Promise.resolve(hit); }
      return new Promise((res, rej) => {
        const w = { pred, resolve: (m) => { clearTimeout(t); ws.messages.splice(ws.messages.indexOf(m), 1); res(m); } };
        const t = setTimeout(() => { ws.waiters.splice(ws.waiters.indexOf(w), 1); rej(new Error('no matching message within ' + ms + ' ms')); }, ms);
        ws.waiters.push(w);
      });
    };
    ws.sendJson = (o) => ws.send(JSON.stringify(o));
    ws.addEventListener('open', () => resolve(ws), { once: true });
    // Node's WebSocket hides a refused handshake's HTTP status; a second,
    // raw handshake with the same URL and headers shows what the server
    // answers now (it may differ if the refusal was transient; say so).
    ws.addEventListener('error', async (e) => {
      let now = '';
      try { now = `; the same handshake again now gets HTTP ${await upgradeStatus(url, headers)}`; } catch (x) { now = `; a second handshake failed too: ${x.message}`; }
      reject(new Error('WebSocket error: ' + (e.message || 'connection failed') + now));
    }, { once: true });
  });
}

/** Call fn(line) for every complete '\n'-terminated line a readable
 * stream (a helper program's stdout) writes, without the newline. */
export function onLines(stream, fn) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      fn(line);
    }
  });
}

/**
 * LISTEN on PostgreSQL channels through tests/integration/helpers/pg-listen.
 * Resolves once listening; `.events` collects {channel, payload}; `.next(pred)`
 * waits for one; `.stop()` ends it.
 */
export async function pgListen(pg, channels) {
  const child = spawn(bin.pgListen, [pg.conninfo, ...channels], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const l = { events: [], waiters: [] };
  let ready;
  const readyP = new Promise((r, j) => { ready = r; child.on('exit', (c) => j(new Error('pg-listen exited ' + c))); });
  onLines(child.stdout, (line) => {
    if (line === 'READY') { ready(); return; }
    const sp = line.indexOf(' ');
    const ev = { channel: line.slice(0, sp), payload: line.slice(sp + 1) };
    l.events.push(ev);
    for (const w of [...l.waiters]) if (w.pred(ev)) { l.waiters.splice(l.waiters.indexOf(w), 1); w.resolve(ev); }
  });
  l.next = (pred = () => true, ms = 5000) => {
    const hit = l.events.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((res, rej) => {
      const w = { pred, resolve: (e) => { clearTimeout(t); res(e); } };
      const t = setTimeout(() => { l.waiters.splice(l.waiters.indexOf(w), 1); rej(new Error('no matching NOTIFY within ' + ms + ' ms')); }, ms);
      l.waiters.push(w);
    });
  };
  l.stop = () => stop(child);
  await readyP;
  return l;
}

/**
 * One HTTP request; returns {status, headers, text, json, cookies}.  opts:
 * body (object -> JSON, string -> as is), type (Content-Type), cookie,
 * headers.  Never follows redirects.
 */
export async function http(base, method, urlPath, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) body = JSON.stringify(body);
  if (body !== undefined && !('Content-Type' in headers) && opts.type !== null) headers['Content-Type'] = opts.type || 'application/json';
  if (opts.cookie) headers.Cookie = opts.cookie;
  const res = await fetch(base + urlPath, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, text, json, cookies: res.headers.getSetCookie() };
}

/** Log in through the REST API; returns {cookie, res} ("wsp_session=..."). */
export async function login(base, username, password, extra = {}) {
  const res = await http(base, 'POST', '/api/1/auth/login', { body: { username, password }, ...extra });
  const sc = res.cookies.find((c) => c.startsWith('wsp_session='));
  return { res, cookie: sc ? sc.split(';')[0] : null };
}

/**
 * One FastCGI request straight to a FastCGI socket ({path} or {port, host}),
 * as a web server would send it.  params: CGI variables; body: string.
 * Resolves {status, headers (lower-case names), body}.
 */
function fcgiRecord(type, id, content) {
  const h = Buffer.alloc(8);
  h.writeUInt8(1, 0); h.writeUInt8(type, 1); h.writeUInt16BE(id, 2);
  h.writeUInt16BE(content.length, 4);
  return Buffer.concat([h, content]);
}

/** One FastCGI request's records: BEGIN_REQUEST (FCGI_KEEP_CONN when keep), PARAMS, STDIN. */
export function fcgiEncode(params, body = '', { keep = false, id = 1 } = {}) {
  const len = (n) => (n < 128 ? Buffer.from([n]) : (() => { const b = Buffer.alloc(4); b.writeUInt32BE((n | 0x80000000) >>> 0); return b; })());
  const nv = Buffer.concat(Object.entries(params).map(([k, v]) => {
    const kb = Buffer.from(k), vb = Buffer.from(String(v));
    return Buffer.concat([len(kb.length), len(vb.length), kb, vb]);
  }));
  const b = Buffer.from(body);
  const chunks = [fcgiRecord(1, id, Buffer.from([0, 1, keep ? 1 : 0, 0, 0, 0, 0, 0])), fcgiRecord(4, id, nv), fcgiRecord(4, id, Buffer.alloc(0))];
  for (let i = 0; i < b.length; i += 65535) chunks.push(fcgiRecord(5, id, b.subarray(i, i + 65535)));
  chunks.push(fcgiRecord(5, id, Buffer.alloc(0)));
  return Buffer.concat(chunks);
}

/**
 * One FastCGI connection as a web server holds it ({port, host, localAddress} or {path}):
 * request(params, body, {keep}) sends a request and resolves to {status, headers, body} at its
 * END_REQUEST; requests go one after the other. `ended` resolves when the server closes it.
 */
export async function fcgiConnection(addr) {
  const sock = addr.path ? net.connect(addr.path)
    : net.connect({ port: addr.port, host: addr.host || '127.0.0.1', localAddress: addr.localAddress });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  let buf = Buffer.alloc(0), out = Buffer.alloc(0), waiting = null;
  const ended = new Promise((resolve) => sock.on('close', () => { resolve(true); waiting?.reject(new Error('FastCGI connection closed before the answer')); }));
  sock.on('error', () => {});
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 8) {
      const type = buf[1], clen = buf.readUInt16BE(4), plen = buf[6];
      if (buf.length < 8 + clen + plen) break;
      const content = buf.subarray(8, 8 + clen);
      buf = buf.subarray(8 + clen + plen);
      if (type === 6) out = Buffer.concat([out, content]);
      if (type === 3) {
        const text = out.toString('utf8');
        out = Buffer.alloc(0);
        const sep = text.indexOf('\r\n\r\n');
        const headers = {};
        for (const line of text.slice(0, sep).split('\r\n')) {
          const k = line.indexOf(':');
          headers[line.slice(0, k).toLowerCase()] = line.slice(k + 1).trim();
        }
        const w = waiting;
        waiting = null;
        w?.resolve({ status: parseInt(headers.status, 10), headers, body: text.slice(sep + 4) });
      }
    }
  });
  return {
    sock, ended,
    request(params, body = '', { keep = true } = {}) {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        sock.write(fcgiEncode(params, body, { keep }));
      });
    },
    close() { sock.destroy(); },
  };
}

/** One request on a new FastCGI connection (closed after it): {status, headers, body}. */
export async function fcgiRequest(addr, params, body = '') {
  const c = await fcgiConnection(addr);
  try {
    return await c.request(params, body, { keep: false });
  } finally {
    c.sock.end();
  }
}

/**
 * Start Debian's Apache 2.4 in front of a running stack, with its own config
 * file in s.dir and the shipped apache/wspulse.conf included as a user would
 * (addresses given with Define).  Returns {url, wsUrl, proc, log()}.
 * `extra` is appended to the server config (e.g. a mod_fcgid setup);
 * `snippet: false` leaves the shipped snippet out.
 */
export async function startApache(s, { extra = '', modules = [], snippet = true } = {}) {
  const port = await freePort();
  const dir = path.join(s.dir, 'apache');
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o755);
  const mods = ['mpm_event', 'authz_core', 'dir', 'mime', 'alias', 'proxy', 'proxy_http', 'proxy_fcgi', 'proxy_wstunnel', ...modules];
  const asRoot = process.getuid() === 0;
  const conf = path.join(dir, 'apache2.conf');
  fs.writeFileSync(conf, `ServerRoot "${dir}"
${mods.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join('\n')}
${asRoot ? 'User www-data\nGroup www-data' : ''}
Listen 127.0.0.1:${port}
ServerName 127.0.0.1
PidFile "${dir}/apache2.pid"
ErrorLog "${dir}/error.log"
LogLevel warn
Mutex file:${dir} default
DefaultRuntimeDir "${dir}"
TypesConfig /etc/mime.types
LogFormat "%h %r %>s" plain
Define WSPULSE_DAEMON 127.0.0.1:${s.daemonPort}
Define WSPULSE_FCGI 127.0.0.1:${s.fcgiPort}
Define WSPULSE_WWW ${path.join(srcdir, 'www')}
DocumentRoot "${path.join(srcdir, 'www')}"
<Directory "${path.join(srcdir, 'www')}">
    Require all granted
</Directory>
DirectoryIndex index.html
${snippet ? `Include "${path.join(builddir, 'apache/wspulse.conf')}"` : ''}
CustomLog "${dir}/access.log" ${snippet ? 'wspulse' : 'plain'}
${extra}
`);
  const r = run('/usr/sbin/apache2', ['-f', conf, '-t']);
  if (r.status !== 0) throw new Error('apache2 -t: ' + r.stderr + r.stdout);
  const proc = start('/usr/sbin/apache2', ['-f', conf, '-DFOREGROUND'], { log: path.join(dir, 'apache.out') });
  const a = {
    proc, port, dir,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    log: () => ['error.log', 'apache.out'].map((f) => { try { return fs.readFileSync(path.join(dir, f), 'utf8'); } catch { return ''; } }).join('\n'),
    stop: () => stop(proc, 'SIGTERM', 5000),
  };
  await waitFor(() => httpOk(`${a.url}/index.html`), 10000, 'apache2').catch((e) => { throw new Error(e.message + '\n' + a.log()); });
  return a;
}
