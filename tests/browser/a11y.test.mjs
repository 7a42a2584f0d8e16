// WCAG 2.1 AA, checked automatically: every kind of page roomgate serves, in English and
// in Polish, at desktop and phone sizes, is run through axe-core (rules tagged wcag2a,
// wcag2aa, wcag21a, wcag21aa) and must have no violation. Beyond axe, each page must have
// `<html lang>` of its language, a skip link to `#main`, a visible focus ring on every
// Tab stop, a title on the embed's container (room pages) and an aria-live region (pages
// whose status text changes), and no horizontal scrolling at phone width.
//
// Each room page is audited in a known phase (live, upcoming with its countdown, strict
// and waiting, ended), whatever the date: fixtures.mjs writes the catalog for the moment
// roomgate starts, and each test first checks that the page is in the phase it audits.
//
// axe runs in the page as served, under its own Content-Security-Policy: its source is
// handed to `page.evaluate`, which runs through the DevTools protocol and is not subject
// to the page's CSP, so no `bypassCSP` is needed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  CONTAINER_ID,
  ENDED,
  HOST_TOKEN,
  INACTIVE,
  LIVE_SCHEDULED,
  ROOM,
  SCHEDULED,
  STRICT,
  UNKNOWN,
  WAIT_MS,
  describePage,
  pageFacts,
  startAll,
  startRoomgate,
  submitPrompt,
} from './fixtures.mjs';
import { WCAG_TAGS, describeViolations, runAxe } from './axe.mjs';

const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 360, height: 780 },
};

/** Each language with the browser locale (and so the Accept-Language header) that asks for it. */
const LANGUAGES = {
  en: 'en-US',
  pl: 'pl-PL',
};

/** Every page is served with a support link, so the footer link and the error pages' button are checked too. */
const SUPPORT_URL = 'https://support.example.com/help';

let env;
let promptApp;
before(async () => {
  env = await startAll({ env: { ROOMGATE__BRANDING__SUPPORT_URL: SUPPORT_URL } });
  promptApp = await startRoomgate({
    embedOrigin: env.stub.origin,
    env: { ROOMGATE__ROOMS__REQUIRE_NICKNAME: 'true' },
  });
});
after(async () => {
  await promptApp?.stop();
  await env?.stop();
});

// ---------------------------------------------------------------------------------------
// Opening the pages

/** Opens `link` of `app` and waits until the page has settled (the loader ran, if any). */
async function openPage(page, app, link, status) {
  const since = env.stub.mark();
  const response = await page.goto(app.url(link), { waitUntil: 'load', timeout: WAIT_MS });
  if (response.status() !== status) {
    assert.fail(`${link} must answer ${status}; the page is ${await describePage(page)}`);
  }
  await settle(page, since);
  return response;
}

/** Waits for the embed loader (on pages that have the embed) and for the network to rest. */
async function settle(page, since) {
  if ((await page.locator('#roomgate-embed').count()) > 0) {
    await env.stub.waitForLoaderRequest(since, { page });
    await page.waitForFunction(
      () => typeof window.Widget === 'function' && window.Widget.initialized === true,
      null, { timeout: WAIT_MS });
  }
  await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
  await page.evaluate(() => document.fonts.ready);
}

/** The name prompt with its error: a name that is empty once trimmed, sent past `required`. */
async function openPromptWithError(page) {
  await openPage(page, promptApp, `/room/${ROOM}`, 200);
  const input = page.locator('#nickname');
  await input.evaluate((el) => el.removeAttribute('required'));
  await input.fill('   ');
  const response = await submitPrompt(page, () => page.locator('form button[type=submit]').click());
  assert.equal(response.status(), 422, 'a blank name is refused with 422');
  await page.locator('#nickname-error').waitFor({ timeout: WAIT_MS });
  await settle(page, env.stub.mark());
  const invalid = await page.locator('#nickname').evaluate((el) => ({
    ariaInvalid: el.getAttribute('aria-invalid'),
    describedBy: el.getAttribute('aria-describedby'),
  }));
  assert.deepEqual(invalid, { ariaInvalid: 'true', describedBy: 'nickname-error' },
    'the input is marked invalid and described by its error');
  assert.ok((await page.locator('#nickname-error').innerText()).trim().length > 0, 'the error has text');
}

/**
 * The pages checked. `phase`: what the page must be (see `pageFacts` in fixtures.mjs), so
 * that each kind of page is audited in a known state. `embed`: whether the room's frame
 * must be there. `countdown`: whether the page must have a countdown. `live`: the page
 * has status text that changes, so it needs an aria-live region. `stops`: Tab stops the
 * page must have (each must show a focus ring, like every other stop).
 */
const PAGES = [
  {
    name: 'attendee room page',
    open: (page) => openPage(page, env.app, `/room/${ROOM}`, 200),
    phase: 'live',
    embed: true,
    countdown: false,
    live: true,
    stops: ['a.skip-link', 'summary'],
  },
  {
    name: 'host room page',
    open: (page) => openPage(page, env.app, `/room/${ROOM}/${HOST_TOKEN}`, 200),
    phase: 'live',
    embed: true,
    countdown: false,
    live: true,
    stops: ['a.skip-link', 'summary'],
  },
  {
    name: 'scheduled room page, running',
    open: (page) => openPage(page, env.app, `/room/${LIVE_SCHEDULED}`, 200),
    phase: 'live',
    embed: true,
    countdown: false,
    live: true,
    stops: ['a.skip-link'],
  },
  {
    name: 'scheduled room page, upcoming (the room and a countdown)',
    open: (page) => openPage(page, env.app, `/room/${SCHEDULED}`, 200),
    phase: 'upcoming',
    embed: true,
    countdown: true,
    live: true,
    stops: ['a.skip-link', 'summary'],
  },
  {
    name: 'strict room page, waiting to open (a countdown, no room)',
    open: (page) => openPage(page, env.app, `/room/${STRICT}`, 200),
    phase: 'waiting',
    embed: false,
    countdown: true,
    live: true,
    stops: ['a.skip-link'],
  },
  {
    name: 'scheduled room page, ended',
    open: (page) => openPage(page, env.app, `/room/${ENDED}`, 200),
    phase: 'ended',
    embed: false,
    countdown: false,
    live: true,
    stops: ['a.skip-link'],
  },
  {
    name: 'name prompt',
    open: (page) => openPage(page, promptApp, `/room/${ROOM}`, 200),
    phase: 'prompt',
    embed: false,
    countdown: false,
    live: true,
    stops: ['a.skip-link', 'input#nickname', 'button[type=submit]'],
  },
  {
    name: 'name prompt with an error',
    open: (page) => openPromptWithError(page),
    phase: 'prompt',
    embed: false,
    countdown: false,
    live: true,
    stops: ['a.skip-link', 'input#nickname', 'button[type=submit]'],
  },
  {
    name: '404 page (unknown room)',
    open: (page) => openPage(page, env.app, `/room/${UNKNOWN}`, 404),
    phase: 'error',
    embed: false,
    countdown: false,
    live: false,
    stops: ['a.skip-link', '.card a.button'],
  },
  {
    name: '410 page (inactive room)',
    open: (page) => openPage(page, env.app, `/room/${INACTIVE}`, 410),
    phase: 'error',
    embed: false,
    countdown: false,
    live: false,
    stops: ['a.skip-link', '.card a.button'],
  },
];

// ---------------------------------------------------------------------------------------
// Keyboard focus

/** The focused element as a short selector-like text, or 'body' when nothing is focused. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return 'body';
    const classes = typeof el.className === 'string' && el.className.trim()
      ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
    return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${classes}`;
  });
}

/**
 * Whether the focused element shows a focus ring, from its computed style: an outline
 * (style not none, width ≥ 1px, not transparent), or a box-shadow ring (no offset, a
 * spread of at least 2px). Also whether it matches :focus-visible.
 */
function focusRing(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    const transparent = (c) => c === 'transparent' || /rgba\([^)]*,\s*0\)$/.test(c);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1
      && !transparent(s.outlineColor);
    const shadowRing = s.boxShadow !== 'none'
      && /(^|,\s*|\)\s*)0px 0px 0px ([2-9]|\d{2,})(\.\d+)?px/.test(s.boxShadow);
    const rect = el.getBoundingClientRect();
    return {
      visible: outline || shadowRing,
      focusVisible: el.matches(':focus-visible'),
      style: `outline: ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}; box-shadow: ${s.boxShadow}`,
      onScreen: rect.width > 0 && rect.height > 0 && rect.left >= 0 && rect.top >= 0
        && rect.right <= window.innerWidth + 0.5,
    };
  });
}

/** Presses Tab until the focused element matches `selector`; fails after 40 presses. */
async function tabTo(page, selector) {
  const seen = [];
  for (let i = 0; i < 40; i++) {
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    await page.keyboard.press('Tab');
    seen.push(await focused(page));
  }
  assert.fail(`Tab never reaches ${selector}; stops: ${seen.join(' → ')}`);
}

/**
 * Walks the Tab order from the skip link until the focus leaves the page or comes back to
 * the skip link, checking each stop's focus ring. Returns the stops and the problems.
 */
async function walkTabStops(page) {
  await tabTo(page, 'a.skip-link');
  const stops = [];
  const problems = [];
  for (let i = 0; i < 30; i++) {
    const name = await focused(page);
    if (name === 'body' || (i > 0 && name.startsWith('a.skip-link'))) break;
    const ring = await focusRing(page);
    const matches = await page.evaluate(() => {
      const el = document.activeElement;
      return ['a.skip-link', 'summary', 'input#nickname', 'button[type=submit]', '.card a.button']
        .filter((sel) => el.matches(sel));
    });
    stops.push({ name, matches });
    if (!ring.visible) problems.push(`${name}: no visible focus ring (${ring.style})`);
    if (!ring.focusVisible) problems.push(`${name}: does not match :focus-visible after Tab`);
    if (!ring.onScreen) problems.push(`${name}: focused but not on screen`);
    await page.keyboard.press('Tab');
  }
  return { stops, problems };
}

// ---------------------------------------------------------------------------------------
// The checks

/** The checks beyond axe that do not move the focus. */
async function structureProblems(page, spec, lang, device) {
  const problems = [];
  const facts = await page.evaluate((containerId) => {
    const skip = document.querySelector('a.skip-link');
    const main = document.getElementById('main');
    const frame = document.getElementById(containerId);
    const live = [...document.querySelectorAll('[aria-live], [role=status], [role=alert], [role=log]')]
      .filter((el) => el.getAttribute('aria-live') !== 'off')
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}`);
    return {
      lang: document.documentElement.getAttribute('lang'),
      skipHref: skip?.getAttribute('href') ?? null,
      skipText: skip?.textContent.trim() ?? '',
      skipIsFirst: skip !== null && skip === document.querySelector('a[href], button, input:not([type=hidden]), summary, [tabindex]:not([tabindex="-1"])'),
      mainTag: main?.tagName.toLowerCase() ?? null,
      hasData: document.getElementById('roomgate-embed') !== null,
      frameTitle: frame ? frame.getAttribute('title') : null,
      countdown: document.querySelector('[data-countdown-to]') !== null,
      h1: document.querySelector('h1')?.textContent.trim() ?? '',
      live,
      overflow: document.documentElement.scrollWidth - window.innerWidth,
    };
  }, CONTAINER_ID);

  if (facts.lang !== lang) problems.push(`<html lang> is ${JSON.stringify(facts.lang)}, expected "${lang}"`);
  if (facts.skipHref !== '#main') problems.push(`the skip link's href is ${JSON.stringify(facts.skipHref)}, expected "#main"`);
  if (!facts.skipText) problems.push('the skip link has no text');
  if (!facts.skipIsFirst) problems.push('the skip link is not the first focusable element');
  if (facts.mainTag !== 'main') problems.push(`#main is ${facts.mainTag ?? 'missing'}, expected a <main> element`);
  if (!facts.h1) problems.push('the page has no <h1> with text');

  const frameThere = facts.frameTitle !== null;
  if (spec.embed && !frameThere) problems.push(`#${CONTAINER_ID} is missing`);
  if (!spec.embed && frameThere) problems.push(`#${CONTAINER_ID} is there on a page without the room`);
  if (spec.countdown !== facts.countdown) {
    problems.push(spec.countdown ? 'the countdown ([data-countdown-to]) is missing'
      : 'a countdown ([data-countdown-to]) is there on a page that has none');
  }
  if (facts.hasData !== frameThere) problems.push(`the embed data block and #${CONTAINER_ID} do not come together`);
  if (frameThere) {
    if (!facts.frameTitle.trim()) problems.push(`#${CONTAINER_ID} has an empty or missing title`);
    else if (!facts.frameTitle.includes(facts.h1)) {
      problems.push(`#${CONTAINER_ID}'s title ${JSON.stringify(facts.frameTitle)} does not name the room ${JSON.stringify(facts.h1)}`);
    }
  }
  if (spec.live && facts.live.length === 0) problems.push('no aria-live region (aria-live, role=status, role=alert or role=log)');
  if (device === 'phone' && facts.overflow > 0) {
    problems.push(`the page scrolls sideways at ${VIEWPORTS.phone.width}px (by ${facts.overflow}px; WCAG 1.4.10)`);
  }
  return problems;
}

for (const [lang, locale] of Object.entries(LANGUAGES)) {
  for (const [device, viewport] of Object.entries(VIEWPORTS)) {
    describe(`${lang}, ${device} (${viewport.width}×${viewport.height})`, () => {
      for (const spec of PAGES) {
        test(spec.name, async (t) => {
          const context = await env.browser.newContext({ viewport, locale });
          t.after(() => context.close());
          const page = await context.newPage();
          await spec.open(page);
          // Audit the page the test is about, not whatever the server chose to show.
          assert.equal((await pageFacts(page)).phase, spec.phase,
            `the ${spec.name} must be in phase "${spec.phase}"; it is ${await describePage(page)}`);

          const results = await runAxe(page);
          t.diagnostic(`axe ${results.version}: ${results.passed} rules passed, `
            + `${results.inapplicable} not applicable, ${results.violations.length} violated`);
          if (results.incomplete.length > 0) {
            t.diagnostic(`axe ${results.version} needs review (not failed): `
              + results.incomplete.map((r) => `${r.id} ×${r.nodes.length}`).join(', '));
          }
          assert.equal(results.violations.length, 0,
            `axe ${results.version} (${WCAG_TAGS.join(', ')}) found ${results.violations.length} `
            + `violation(s) on the ${spec.name} [${lang}, ${device}] at ${page.url()}:\n`
            + describeViolations(results.violations));

          const problems = await structureProblems(page, spec, lang, device);

          const walk = await walkTabStops(page);
          t.diagnostic(`Tab stops: ${walk.stops.map((s) => s.name).join(' → ')}`);
          problems.push(...walk.problems);
          for (const wanted of spec.stops) {
            if (!walk.stops.some((s) => s.matches.includes(wanted))) {
              problems.push(`Tab never stops on ${wanted}; stops: ${walk.stops.map((s) => s.name).join(' → ')}`);
            }
          }

          assert.deepEqual(problems, [],
            `accessibility problems on the ${spec.name} [${lang}, ${device}] at ${page.url()}`);
        });
      }
    });
  }
}

describe('the checks themselves', () => {
  test('see a missing alt text, an unlabelled field, a wrong lang and a hidden focus ring', async (t) => {
    const context = await env.browser.newContext({ viewport: VIEWPORTS.desktop, locale: LANGUAGES.en });
    t.after(() => context.close());
    const page = await context.newPage();
    await openPage(page, env.app, `/room/${ROOM}`, 200);
    const clean = await runAxe(page);
    assert.deepEqual(clean.violations, [], 'the page is clean before the damage');

    // Script-made elements and CSSOM styles are allowed under the page's CSP.
    await page.evaluate(() => {
      const main = document.getElementById('main');
      const img = document.createElement('img');
      img.src = '/static/img/logo.svg';
      main.append(img);
      const input = document.createElement('input');
      input.type = 'text';
      main.append(input);
      document.documentElement.lang = 'de';
      const skip = document.querySelector('a.skip-link');
      skip.style.setProperty('outline', 'none', 'important');
      skip.style.setProperty('box-shadow', 'none', 'important');
    });

    const damaged = await runAxe(page);
    const ids = damaged.violations.map((v) => v.id);
    assert.ok(ids.includes('image-alt'), `axe reports image-alt: ${ids.join(', ')}`);
    assert.ok(ids.includes('label'), `axe reports label: ${ids.join(', ')}`);
    assert.match(describeViolations(damaged.violations), /target: #main > img/, 'the report names the element');

    const problems = await structureProblems(page, PAGES[0], 'en', 'desktop');
    assert.ok(problems.some((p) => p.startsWith('<html lang> is "de"')), problems.join('\n'));

    const walk = await walkTabStops(page);
    assert.ok(walk.problems.some((p) => p.startsWith('a.skip-link: no visible focus ring')),
      walk.problems.join('\n'));
  });
});
