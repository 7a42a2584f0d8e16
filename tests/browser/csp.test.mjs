// Every page works under its own Content-Security-Policy: no violation reported, no
// console error, no uncaught error. A control test proves the recorders see violations.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ROOM_CASES } from './cases.mjs';
import {
  DAILY,
  ENDED,
  HOST_TOKEN,
  INACTIVE,
  NO_PROBLEMS,
  ROOM,
  STRICT,
  UNKNOWN,
  WAIT_MS,
  describePage,
  instrumentedPage,
  openRoom,
  startAll,
  waitUntil,
} from './fixtures.mjs';

let env;
before(async () => { env = await startAll(); });
after(async () => { await env?.stop(); });

/** The CSP header of a page: present, and without any `unsafe-` source. */
async function assertStrictCsp(response) {
  const csp = (await response.allHeaders())['content-security-policy'];
  assert.ok(csp, 'the page has a Content-Security-Policy');
  assert.doesNotMatch(csp, /unsafe-/, `no unsafe-* source in ${csp}`);
  assert.match(csp, /script-src 'self' /, csp);
}

describe('room pages', () => {
  for (const c of ROOM_CASES) {
    test(`${c.name}: no CSP violation, no console error`, async () => {
      const context = await env.browser.newContext();
      try {
        const recorder = await instrumentedPage(context);
        for (const link of c.links) {
          const { response } = await openRoom(recorder.page, env.stub, env.app.url(link));
          assert.equal(response.status(), 200, link);
          await assertStrictCsp(response);
          assert.deepEqual(await recorder.problems(), NO_PROBLEMS, link);
        }
      } finally {
        await context.close();
      }
    });
  }
});

// Scheduled rooms that show no room: the page script still runs (the countdown, the
// local time), so these pages too must be clean under the CSP.
describe('room pages without the room', () => {
  const cases = [
    ['strict room not open yet', `/room/${STRICT}`, /phase "waiting"/],
    ['strict repeating room, next occurrence not open yet', `/room/${DAILY}`, /phase "waiting"/],
    ['ended room', `/room/${ENDED}`, /phase "ended"/],
  ];
  for (const [name, link, phase] of cases) {
    test(`${name}: no CSP violation, no console error, no loader`, async () => {
      const context = await env.browser.newContext();
      try {
        const recorder = await instrumentedPage(context);
        const since = env.stub.mark();
        const response = await recorder.page.goto(env.app.url(link), { waitUntil: 'load', timeout: WAIT_MS });
        await recorder.page.waitForLoadState('networkidle', { timeout: WAIT_MS });
        assert.equal(response.status(), 200);
        assert.match(await describePage(recorder.page), phase);
        await assertStrictCsp(response);
        assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
        assert.deepEqual(env.stub.loaderRequests(since), [], 'no loader without the room');
      } finally {
        await context.close();
      }
    });
  }
});

describe('error pages', () => {
  const cases = [
    ['unknown room', `/room/${UNKNOWN}`, 404],
    ['wrong role hash', `/room/${ROOM}/Wrong${HOST_TOKEN}`, 404],
    ['malformed room key', '/room/not-a-room', 404],
    ['inactive room', `/room/${INACTIVE}`, 410],
  ];
  for (const [name, link, status] of cases) {
    test(`${name} (${status}): no CSP violation, no console error, no loader`, async () => {
      const context = await env.browser.newContext();
      try {
        const recorder = await instrumentedPage(context);
        const since = env.stub.mark();
        const url = env.app.url(link);
        const response = await recorder.page.goto(url, { waitUntil: 'load', timeout: WAIT_MS });
        await recorder.page.waitForLoadState('networkidle', { timeout: WAIT_MS });
        assert.equal(response.status(), status);
        await assertStrictCsp(response);
        const problems = await recorder.problems();
        // Chromium reports the document's own error status on the console; that one is
        // the point of the page, anything else is a problem.
        problems.consoleErrors = problems.consoleErrors.filter(
          (e) => !(e.startsWith(`Failed to load resource: the server responded with a status of ${status} `)
            && e.endsWith(`(${url})`)));
        assert.deepEqual(problems, NO_PROBLEMS);
        assert.deepEqual(env.stub.loaderRequests(since), [], 'an error page loads no room');
        assert.equal(await recorder.page.locator('h1').count(), 1);
      } finally {
        await context.close();
      }
    });
  }
});

describe('the recorders themselves', () => {
  test('see a blocked inline script and a script from another origin', async () => {
    const context = await env.browser.newContext();
    try {
      const recorder = await instrumentedPage(context);
      await openRoom(recorder.page, env.stub, env.app.url(`/room/${ROOM}`));
      assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
      await recorder.page.evaluate(() => {
        const inline = document.createElement('script');
        inline.textContent = 'window.__inlineRan = 1;';
        document.body.append(inline);
        const foreign = document.createElement('script');
        foreign.src = 'http://localhost:9/evil.js';
        document.body.append(foreign);
      });
      await recorder.page.waitForFunction(() => window.__cspViolations.length >= 2, null,
        { timeout: WAIT_MS });
      const violations = await recorder.cspViolations();
      assert.equal(violations.length, 2, JSON.stringify(violations));
      assert.ok(violations.every((v) => v.directive.startsWith('script-src')), JSON.stringify(violations));
      assert.equal(await recorder.page.evaluate(() => window.__inlineRan), undefined,
        'the inline script did not run');
      await waitUntil(() => recorder.consoleErrors.length >= 2, 'the violations on the console');
      assert.ok(recorder.consoleErrors.every((e) => /Content Security Policy/.test(e)),
        recorder.consoleErrors.join('\n'));
    } finally {
      await context.close();
    }
  });
});
