// The name prompt (rooms.require_nickname = true): it shows instead of the room when no
// name is known, its name reaches the loader, and it works by keyboard alone.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  HOST_TOKEN,
  NO_PROBLEMS,
  ROOM,
  WAIT_MS,
  baseOptions,
  instrumentedPage,
  loaderUrlProblems,
  openRoom,
  postOriginNote,
  startAll,
  submitPrompt,
} from './fixtures.mjs';

const ROOM_LINK = `/room/${ROOM}`;

let env;
before(async () => {
  env = await startAll({ env: { ROOMGATE__ROOMS__REQUIRE_NICKNAME: 'true' } });
});
after(async () => { await env?.stop(); });

/** Runs `body(recorder, context)` in a fresh browser context (a fresh session). */
async function inFreshContext(body) {
  const context = await env.browser.newContext();
  try {
    return await body(await instrumentedPage(context), context);
  } finally {
    await context.close();
  }
}

/** Opens `link` and checks that it shows the name prompt and loads no room. */
async function openPrompt(recorder, link) {
  const since = env.stub.mark();
  const response = await recorder.page.goto(env.app.url(link), { waitUntil: 'load', timeout: WAIT_MS });
  assert.equal(response.status(), 200, `status of ${link}`);
  await recorder.page.locator('form #nickname').waitFor({ timeout: WAIT_MS });
  await recorder.page.waitForLoadState('networkidle', { timeout: WAIT_MS });
  assert.deepEqual(env.stub.loaderRequests(since), [], 'the prompt loads no room');
  assert.deepEqual(await recorder.problems(), NO_PROBLEMS, 'CSP violations and errors on the prompt');
  return response;
}

/** Submits the prompt with `action` and checks that the server accepted the name. */
async function submitted(page, action) {
  const response = await submitPrompt(page, action);
  assert.equal(response.status(), 303,
    `the name prompt's POST must be accepted (${await postOriginNote(response)})`);
  return response;
}

/** Describes the focused element, for messages and comparisons. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return 'body';
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).trim().split(/\s+/).join('.')}` : ''}`;
  });
}

/**
 * Moves the keyboard focus out of the document, as a visitor tabbing past the last
 * control does; the next Tab then starts from the top of the page.
 */
async function tabPastTheEnd(page) {
  for (let i = 0; i < 30; i++) {
    if ((await focused(page)) === 'body') return;
    await page.keyboard.press('Tab');
  }
  assert.fail('Tab never leaves the page');
}

describe('the name prompt', () => {
  test('shows instead of the room when no name is known, under the CSP', async () => {
    await inFreshContext(async (recorder) => {
      await openPrompt(recorder, ROOM_LINK);
      const { page } = recorder;
      assert.equal(await page.locator(`#roomgate-embed`).count(), 0, 'no embed data block');
      assert.equal(await page.locator('form').getAttribute('method'), 'post');
      assert.equal(await page.locator('form').getAttribute('action'), `${ROOM_LINK}/join`);
    });
  });

  test('is skipped when the link has a nickname or a personal token', async () => {
    await inFreshContext(async (recorder) => {
      for (const [link, extra] of [
        [`${ROOM_LINK}?_nickname=Ada`, { _nickname: 'Ada' }],
        [`${ROOM_LINK}?_personal_token=Tok_1`, { _personal_token: 'Tok_1' }],
      ]) {
        await recorder.page.context().clearCookies();
        const { response, loader, loaderRequests } = await openRoom(recorder.page, env.stub, env.app.url(link));
        assert.equal(response.status(), 200);
        assert.equal(loaderRequests.length, 1);
        assert.deepEqual(loaderUrlProblems(loader, { ...baseOptions(ROOM), ...extra }), []);
        assert.equal(await recorder.page.locator('#nickname').count(), 0, 'no prompt');
      }
      assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
    });
  });

  test('the name typed in reaches the loader, and the session keeps it', async () => {
    await inFreshContext(async (recorder) => {
      const { page } = recorder;
      await openPrompt(recorder, ROOM_LINK);
      await page.locator('#nickname').fill('Grace Hopper');
      const since = env.stub.mark();
      await submitted(page, () => page.locator('form button[type=submit]').click());
      const loader = await env.stub.waitForLoaderRequest(since, { page });
      await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
      assert.equal(new URL(page.url()).pathname, ROOM_LINK, 'back on the room link');
      assert.equal(env.stub.loaderRequests(since).length, 1, 'the loader is requested once');
      assert.deepEqual(loaderUrlProblems(loader, { ...baseOptions(ROOM), _nickname: 'Grace Hopper' }), []);
      assert.deepEqual(await recorder.problems(), NO_PROBLEMS);

      const again = await openRoom(page, env.stub, env.app.url(ROOM_LINK));
      assert.equal(again.loaderRequests.length, 1);
      assert.deepEqual(loaderUrlProblems(again.loader, { ...baseOptions(ROOM), _nickname: 'Grace Hopper' }), []);
    });
  });

  test('on a host link, returns to the host link with its role', async () => {
    await inFreshContext(async (recorder) => {
      const { page } = recorder;
      await openPrompt(recorder, `${ROOM_LINK}/${HOST_TOKEN}`);
      await page.locator('#nickname').fill('Host Person');
      const since = env.stub.mark();
      await submitted(page, () => page.locator('form button[type=submit]').click());
      const loader = await env.stub.waitForLoaderRequest(since, { page });
      assert.equal(new URL(page.url()).pathname, `${ROOM_LINK}/${HOST_TOKEN}`);
      assert.deepEqual(loaderUrlProblems(loader, {
        ...baseOptions(ROOM), _role_token: HOST_TOKEN, _nickname: 'Host Person',
      }), []);
    });
  });

  test('the name input has a visible label', async () => {
    await inFreshContext(async (recorder) => {
      const { page } = recorder;
      await openPrompt(recorder, ROOM_LINK);
      const label = page.locator('label[for="nickname"]');
      assert.equal(await label.count(), 1, 'one <label for="nickname">');
      const text = (await label.innerText()).trim();
      assert.ok(text.length > 0, 'the label has text');
      assert.ok(await label.isVisible(), 'the label is visible');
      const box = await label.boundingBox();
      const viewport = page.viewportSize();
      assert.ok(box.width >= 20 && box.height >= 8, `the label is not visually hidden: ${JSON.stringify(box)}`);
      assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width,
        `the label is on screen: ${JSON.stringify(box)}`);
      const clipped = await label.evaluate((el) => {
        const s = getComputedStyle(el);
        return s.visibility !== 'visible' || Number(s.opacity) === 0 || s.clipPath !== 'none'
          || (s.clip !== 'auto' && s.clip !== '');
      });
      assert.equal(clipped, false, 'the label is not clipped or transparent');
      // The label names the input for assistive technology too.
      assert.equal(await page.getByRole('textbox', { name: text, exact: true }).getAttribute('id'), 'nickname');
      assert.equal(await page.getByLabel(text, { exact: true }).getAttribute('id'), 'nickname');
    });
  });
});

describe('by keyboard alone', () => {
  test('Tab from the top: the skip link first, then the name input; Enter joins', async () => {
    await inFreshContext(async (recorder) => {
      const { page } = recorder;
      await openPrompt(recorder, ROOM_LINK);
      await tabPastTheEnd(page);

      await page.keyboard.press('Tab');
      assert.equal(await focused(page), 'a.skip-link', 'the first Tab stop is the skip link');
      const skip = page.locator('a.skip-link');
      assert.equal(await skip.getAttribute('href'), '#main');
      const box = await skip.boundingBox();
      assert.ok(box && box.y >= 0 && box.x >= 0, `the focused skip link is on screen: ${JSON.stringify(box)}`);

      const stops = ['a.skip-link'];
      for (let i = 0; i < 10 && stops.at(-1) !== 'input#nickname.field__input'; i++) {
        await page.keyboard.press('Tab');
        stops.push(await focused(page));
      }
      assert.equal(stops.at(-1), 'input#nickname.field__input',
        `Tab reaches the name input; stops: ${stops.join(' → ')}`);

      await page.keyboard.type('Ada Keyboard');
      const since = env.stub.mark();
      await submitted(page, () => page.keyboard.press('Enter'));
      const loader = await env.stub.waitForLoaderRequest(since, { page });
      await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
      assert.equal(env.stub.loaderRequests(since).length, 1);
      assert.deepEqual(loaderUrlProblems(loader, { ...baseOptions(ROOM), _nickname: 'Ada Keyboard' }), []);
      assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
    });
  });

  test('on the room page too, the first Tab stop is the skip link, and it leads to main', async () => {
    await inFreshContext(async (recorder) => {
      const { page } = recorder;
      await openRoom(page, env.stub, env.app.url(`${ROOM_LINK}?_nickname=Ada`));
      assert.equal(await focused(page), 'body', 'nothing is focused after loading');
      await page.keyboard.press('Tab');
      assert.equal(await focused(page), 'a.skip-link');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.id === 'main', null, { timeout: WAIT_MS });
      assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
    });
  });
});
