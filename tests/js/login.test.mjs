// Unit tests of www/login/login.js: the open-redirect-safe ?next= handling.
// Run: node --test tests/js/

import test from 'node:test';
import assert from 'node:assert/strict';
import { loadScript } from './lib/harness.mjs';

const L = loadScript('login/login.js', { globals: { URL } }).win.WspLogin;
const ORIGIN = 'https://pulse.example';

test('same-origin paths are kept', () => {
	for (const p of ['/', '/hello-websocket/', '/admin/websocket-stats.shtml', '/a/b?c=d&e=f#g', '/x%2Fy'])
		assert.equal(L.safeNext(p, ORIGIN), p);
});

test('anything that could leave the origin falls back to the default', () => {
	const bad = [
		'//evil.example/', '///evil.example', '/\\evil.example', '\\\\evil.example', 'https://evil.example/',
		'http:/evil.example', 'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,x', 'evil.example',
		'hello-websocket/', '/\t/evil.example', '/\n/evil.example', ' /x', '', null, undefined, 42,
		'/' + 'a'.repeat(3000),
	];
	for (const p of bad)
		assert.equal(L.safeNext(p, ORIGIN), '/hello-websocket/', JSON.stringify(p));
});

test('paths whose dot segments resolve to //host fall back to the default (issue 19, item 7)', () => {
	const bad = [
		'/..//evil.test/', '/.//evil.test/', '/a/..//evil.test/', '/%2e%2e//evil.test/', '/%2E%2E//evil.test/',
		'/.%2e//evil.test/', '/%2e//evil.test/', '/a/b/../..//evil.test/x?y#z', '/../..//evil.test',
		'/..\\evil.test/', '/.\\/evil.test', '/..%5c/evil.test'.replace('%5c', '\\'),
	];
	for (const p of bad) {
		assert.equal(L.safeNext(p, ORIGIN), '/hello-websocket/', JSON.stringify(p));
		assert.equal(L.safeNext(p), '/hello-websocket/', JSON.stringify(p) + ' without an origin');
	}
	// Encoded once more in the query string: decoded once, then the same rule.
	const loc = (search) => ({ search, origin: ORIGIN });
	for (const q of ['%2F..%2F%2Fevil.test%2F', '%2F.%2F%2Fevil.test%2F', '%2Fa%2F..%2F%2Fevil.test%2F',
		'%2F%252e%252e%2F%2Fevil.test%2F', '/..//evil.test/', '%2F..%5C%2Fevil.test'])
		assert.equal(L.nextFromLocation(loc('?next=' + q)), '/hello-websocket/', q);
	// Harmless dot segments still resolve to the page they name.
	assert.equal(L.safeNext('/a/../hello-websocket/', ORIGIN), '/hello-websocket/');
	assert.equal(L.safeNext('/admin/./websocket-stats.shtml', ORIGIN), '/admin/websocket-stats.shtml');
});

test('nextFromLocation decodes ?next= once and validates the result', () => {
	const loc = (search) => ({ search, origin: ORIGIN });
	assert.equal(L.nextFromLocation(loc('')), '/hello-websocket/');
	assert.equal(L.nextFromLocation(loc('?next=%2Fadmin%2Fwebsocket-stats.shtml')), '/admin/websocket-stats.shtml');
	assert.equal(L.nextFromLocation(loc('?a=1&next=/hello-websocket/%3Fx%3D1')), '/hello-websocket/?x=1');
	assert.equal(L.nextFromLocation(loc('?next=%2F%2Fevil.example')), '/hello-websocket/');
	assert.equal(L.nextFromLocation(loc('?next=https%3A%2F%2Fevil.example')), '/hello-websocket/');
	assert.equal(L.nextFromLocation(loc('?next=%E0%A4%A')), '/hello-websocket/', 'bad escape');
});

test('errorText prefers the server text', () => {
	assert.equal(L.errorText(401, { success: false, error: 'Invalid username or password' }), 'Invalid username or password');
	assert.equal(L.errorText(429, { success: false, error: 'Too many attempts, try again in 60 s' }), 'Too many attempts, try again in 60 s');
	assert.equal(L.errorText(401, null), 'Invalid username or password');
	assert.equal(L.errorText(502, null), 'Login failed (HTTP 502)');
});
