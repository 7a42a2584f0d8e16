// The countdown of a scheduled room ticks. Contract: the page has
// `<span data-countdown-to="ISO 8601 time">` whose text the page script updates every
// second. The element is found by its attribute, whatever its tag. Until a build renders
// the element, these tests are SKIPPED (only then), saying so.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { NO_PROBLEMS, SCHEDULED, WAIT_MS, instrumentedPage, openRoom, startAll } from './fixtures.mjs';

// 234-234-234 starts on 2026-12-01T15:00:00Z (tests/fixtures/rooms.toml).
const SCHEDULED_LINK = `/room/${SCHEDULED}`;
const COUNTDOWN = '[data-countdown-to]';

let env;
before(async () => { env = await startAll(); });
after(async () => { await env?.stop(); });

/**
 * Opens the scheduled room in a fresh context (with Playwright's fake clock when
 * `fakeClock`) and returns the countdown element, or null after skipping `t` when the
 * page has none.
 */
async function openCountdown(t, { fakeClock }) {
  const context = await env.browser.newContext();
  t.after(() => context.close());
  const recorder = await instrumentedPage(context);
  if (fakeClock) await recorder.page.clock.install();
  const { response } = await openRoom(recorder.page, env.stub, env.app.url(SCHEDULED_LINK), { idle: false });
  assert.equal(response.status(), 200);
  const countdown = recorder.page.locator(COUNTDOWN);
  if ((await countdown.count()) === 0) {
    t.skip(`SKIPPED: no element with data-countdown-to on ${SCHEDULED_LINK} in this build `
      + '(the countdown feature is not there yet)');
    return null;
  }
  assert.equal(await countdown.count(), 1, 'one countdown');
  const target = await countdown.getAttribute('data-countdown-to');
  assert.ok(!Number.isNaN(Date.parse(target)), `data-countdown-to is an ISO 8601 time: ${target}`);
  if (Date.parse(target) <= Date.now()) {
    t.skip(`SKIPPED: the countdown target ${target} is not in the future any more`);
    return null;
  }
  return { recorder, countdown };
}

function assertShowsTime(text) {
  assert.ok(text.trim().length > 0 && !/NaN|undefined|null|Invalid|…/.test(text),
    `the countdown shows a time: ${JSON.stringify(text)}`);
}

test('the countdown of a scheduled room ticks: its text changes every 1.5 s', async (t) => {
  // The page's clock is Playwright's fake clock, so "1.5 s later" is exact and does not
  // depend on how busy the machine is.
  const opened = await openCountdown(t, { fakeClock: true });
  if (!opened) return;
  const { recorder, countdown } = opened;
  const texts = [await countdown.textContent()];
  for (let i = 0; i < 3; i++) {
    await recorder.page.clock.runFor(1_500);
    texts.push(await countdown.textContent());
  }
  texts.forEach(assertShowsTime);
  for (let i = 1; i < texts.length; i++) {
    assert.notEqual(texts[i], texts[i - 1],
      `the countdown text changed within 1.5 s (${texts.map((x) => JSON.stringify(x)).join(' → ')})`);
  }
  assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
});

test('the countdown of a scheduled room ticks in real time too', async (t) => {
  const opened = await openCountdown(t, { fakeClock: false });
  if (!opened) return;
  const { recorder, countdown } = opened;
  const first = await countdown.textContent();
  // The real clock: a generous bound, so that a busy machine does not fail the test.
  await recorder.page.waitForFunction(
    ([selector, text]) => document.querySelector(selector)?.textContent !== text,
    [COUNTDOWN, first],
    { timeout: WAIT_MS, polling: 50 },
  );
  assertShowsTime(await countdown.textContent());
  assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
});
