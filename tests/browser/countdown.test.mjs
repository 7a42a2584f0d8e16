// The countdown of a scheduled room ticks. Contract: the page has one element with
// `data-countdown-to="ISO 8601 time"` (found by that attribute, whatever its tag) whose
// text the page script updates every second. A page without it fails the test.
//
// The rooms are in the same phase whatever the date: fixtures.mjs writes the catalog for
// the moment roomgate starts. SCHEDULED is upcoming (the embed, and a countdown to its
// start); STRICT is waiting (no embed, and a countdown to its opening, 60 minutes before
// its start).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  NO_PROBLEMS,
  SCHEDULED,
  STRICT,
  WAIT_MS,
  describePage,
  instrumentedPage,
  openRoom,
  startAll,
} from './fixtures.mjs';

const COUNTDOWN = '[data-countdown-to]';

/** How long before its start a strict room opens (src/room/schedule.rs). */
const STRICT_OPENS_BEFORE_MS = 60 * 60_000;

let env;
before(async () => { env = await startAll(); });
after(async () => { await env?.stop(); });

/**
 * Opens room `license` in a fresh context (with Playwright's fake clock when `fakeClock`)
 * and returns the page's recorder and its one countdown element. `embed`: whether the
 * room must load the embed (an upcoming room) or must not (a waiting one).
 */
async function openCountdown(t, license, { fakeClock, embed }) {
  const link = `/room/${license}`;
  const context = await env.browser.newContext();
  t.after(() => context.close());
  const recorder = await instrumentedPage(context);
  const { page } = recorder;
  if (fakeClock) await page.clock.install();
  const since = env.stub.mark();
  let response;
  if (embed) {
    ({ response } = await openRoom(page, env.stub, env.app.url(link), { idle: false }));
    assert.equal(response.status(), 200, `status of ${link}`);
  } else {
    response = await page.goto(env.app.url(link), { waitUntil: 'load', timeout: WAIT_MS });
    assert.equal(response.status(), 200, `status of ${link}`);
    await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
    assert.deepEqual(env.stub.loaderRequests(since), [],
      `a waiting room loads no embed; the page is ${await describePage(page, response)}`);
  }
  const countdown = page.locator(COUNTDOWN);
  assert.equal(await countdown.count(), 1,
    `one element with data-countdown-to on ${link}; the page is ${await describePage(page, response)}`);
  return { recorder, countdown };
}

/** Checks that the countdown counts to `expected` (an ISO 8601 time), in the future. */
async function assertCountsTo(countdown, expected) {
  const target = await countdown.getAttribute('data-countdown-to');
  assert.ok(!Number.isNaN(Date.parse(target)), `data-countdown-to is an ISO 8601 time: ${target}`);
  assert.equal(new Date(target).toISOString(), new Date(expected).toISOString(),
    `data-countdown-to is ${target}, expected ${expected}`);
  assert.ok(Date.parse(target) > Date.now(), `the countdown target ${target} is in the future`);
}

function assertShowsTime(text) {
  assert.ok(text.trim().length > 0 && !/NaN|undefined|null|Invalid|…/.test(text),
    `the countdown shows a time: ${JSON.stringify(text)}`);
}

/** Reads the countdown, then three times more 1.5 s later each on the fake clock; each must differ. */
async function assertTicksOnFakeClock(page, countdown) {
  const texts = [await countdown.textContent()];
  for (let i = 0; i < 3; i++) {
    await page.clock.runFor(1_500);
    texts.push(await countdown.textContent());
  }
  texts.forEach(assertShowsTime);
  for (let i = 1; i < texts.length; i++) {
    assert.notEqual(texts[i], texts[i - 1],
      `the countdown text changed within 1.5 s (${texts.map((x) => JSON.stringify(x)).join(' → ')})`);
  }
}

test('the countdown of a scheduled room ticks: its text changes every 1.5 s', async (t) => {
  // The page's clock is Playwright's fake clock, so "1.5 s later" is exact and does not
  // depend on how busy the machine is.
  const { recorder, countdown } = await openCountdown(t, SCHEDULED, { fakeClock: true, embed: true });
  await assertCountsTo(countdown, env.app.starts[SCHEDULED]);
  await assertTicksOnFakeClock(recorder.page, countdown);
  assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
});

test('the countdown of a scheduled room ticks in real time too', async (t) => {
  const { recorder, countdown } = await openCountdown(t, SCHEDULED, { fakeClock: false, embed: true });
  await assertCountsTo(countdown, env.app.starts[SCHEDULED]);
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

test('a strict room that is not open yet counts down to its opening, without the embed', async (t) => {
  const { recorder, countdown } = await openCountdown(t, STRICT, { fakeClock: true, embed: false });
  const opensAt = Date.parse(env.app.starts[STRICT]) - STRICT_OPENS_BEFORE_MS;
  await assertCountsTo(countdown, opensAt);
  await assertTicksOnFakeClock(recorder.page, countdown);
  assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
});
