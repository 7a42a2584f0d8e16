// The page script requests the vendor's loader exactly once, with `t` and every expected
// option, each value percent-encoded on its own (checked both parsed and raw).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ROOM_CASES } from './cases.mjs';
import {
  baseOptions,
  embedBlock,
  instrumentedPage,
  loaderUrlProblems,
  openRoom,
  startAll,
} from './fixtures.mjs';

let env;
before(async () => { env = await startAll(); });
after(async () => { await env?.stop(); });

describe('the loader request', () => {
  for (const c of ROOM_CASES) {
    test(c.name, async () => {
      const context = await env.browser.newContext();
      try {
        const { page } = await instrumentedPage(context);
        let opened;
        for (const link of c.links) {
          opened = await openRoom(page, env.stub, env.app.url(link));
          assert.equal(opened.response.status(), 200, `status of ${link}`);
          assert.equal(opened.loaderRequests.length, 1,
            `${link} requested the loader exactly once: ${JSON.stringify(opened.loaderRequests)}`);
        }
        const expected = { ...baseOptions(c.license), ...c.options };
        assert.deepEqual(loaderUrlProblems(opened.loader, expected), [],
          `loader URL ${opened.loader.url}`);

        // The raw query never carries a parameter the visitor smuggled in.
        const names = opened.loader.rawQuery.split('&').map((p) => p.split('=')[0]);
        if (!Object.hasOwn(c.options, '_role_token')) {
          assert.ok(!names.includes('_role_token'), `no _role_token in ${opened.loader.rawQuery}`);
        }

        // The loader got what the server put in the page's data block, nothing else.
        const block = await embedBlock(page);
        const { t, ...options } = expected;
        assert.deepEqual(block.options, options, 'data block options');
        assert.equal(block.loader, `${env.stub.origin}/em`, 'data block loader');
      } finally {
        await context.close();
      }
    });
  }
});

// The check above must be able to fail: URLs that a broken page script could produce.
describe('the loader URL check itself', () => {
  const origin = 'http://127.0.0.1:9';
  const record = (rawQuery) => ({ url: `${origin}/em?${rawQuery}`, path: '/em', rawQuery });
  const expected = { t: '1', _license_key: '1', _nickname: 'a&_role_token=X' };

  test('accepts the right URL', () => {
    assert.deepEqual(
      loaderUrlProblems(record('t=1&_license_key=1&_nickname=a%26_role_token%3DX'), expected), []);
  });
  for (const [what, rawQuery] of [
    ['an unencoded value', 't=1&_license_key=1&_nickname=a&_role_token=X'],
    ['a value encoded twice', 't=1&_license_key=1&_nickname=a%2526_role_token%253DX'],
    ['a missing option', 't=1&_license_key=1'],
    ['an option given twice', 't=1&_license_key=1&_nickname=a%26_role_token%3DX&_nickname=b'],
    ['t not first', '_license_key=1&t=1&_nickname=a%26_role_token%3DX'],
    ['a + for a space', 't=1&_license_key=1&_nickname=a%26_role_token%3DX+'],
  ]) {
    test(`refuses ${what}`, () => {
      assert.notDeepEqual(loaderUrlProblems(record(rawQuery), expected), []);
    });
  }
});
