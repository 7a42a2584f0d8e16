// Several brands on one roomgate, in a real browser: the example of deploy/brands/
// (brands.toml, with its hosts and public URLs moved to the port this roomgate listens
// on) beside the default brand. Chromium sends every `*.localhost` name to this machine,
// so each brand is opened on its own host name: http://acme.localhost:PORT/…,
// http://globex.localhost:PORT/…, and the default on http://127.0.0.1:PORT/….
//
// On each brand's host the page shows that brand's name, logo (loaded, not broken),
// colour (computed styles of painted elements) and default language, its own rooms only,
// and loads the embed for the right room, with no CSP violation and no console error;
// its room page and its 404 page have no axe violation (the rules a11y.test.mjs runs).
//
// The two brands' room pages, side by side, are written to
// target/browser-artifacts/brands-side-by-side.png; with ROOMGATE_UPDATE_DOCS=1 also to
// docs/brands-side-by-side.png, the README's image.

import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { WCAG_TAGS, describeViolations, runAxe } from './axe.mjs';
import {
  HOST_TOKEN,
  NO_PROBLEMS,
  REPO_ROOT,
  ROOM,
  ROOM2,
  WAIT_MS,
  artifactPath,
  baseOptions,
  describePage,
  instrumentedPage,
  loaderUrlProblems,
  openRoom,
  pageFacts,
  startAll,
} from './fixtures.mjs';

/** The example this file serves (repo-relative). */
const EXAMPLE = path.join('deploy', 'brands', 'brands.toml');
/** The port the example's hosts and public URLs name; replaced by roomgate's own. */
const EXAMPLE_PORT = 8080;

/**
 * The example with every `NAME.localhost:8080` (its hosts and public URLs, and its
 * comments) moved to `port`. Fails when its settings do not name exactly these four: the
 * checks below would then not test the example as it is.
 */
function exampleFor(port) {
  const text = readFileSync(path.join(REPO_ROOT, EXAMPLE), 'utf8');
  const named = new RegExp(`\\.localhost:${EXAMPLE_PORT}\\b`, 'g');
  const settings = text.replace(/^\s*#.*$/gm, '');
  const count = settings.match(named)?.length ?? 0;
  if (count !== 4) {
    throw new Error(`${EXAMPLE} names .localhost:${EXAMPLE_PORT} ${count} times, expected 4 `
      + '(two brands, a host and a public URL each): update tests/browser/brands.test.mjs');
  }
  return text.replace(named, `.localhost:${port}`);
}

/** One word of `lang`'s locale file (locales/LANG.toml), as the pages show it. */
function word(lang, key) {
  const text = readFileSync(path.join(REPO_ROOT, 'locales', `${lang}.toml`), 'utf8');
  const value = text.match(new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, 'm'))?.[1];
  assert.ok(value, `locales/${lang}.toml has ${key}`);
  return value;
}

/**
 * The brands as a visitor sees them. `host`: the host name opened (with roomgate's port);
 * `colour`: the brand colour as computed styles give it; `lang`: the language of a page
 * asked for in a language roomgate does not have (German), that is the brand's default;
 * `room`, `roomName`, `token`: a room of the brand with a host token; `foreign`: a room
 * that exists on the deployment but not for this brand (its 404); `supportButton`: whether
 * the 404 page has the support button (a painted element in the brand colour);
 * `frameAncestors`: the CSP's frame-ancestors on its pages.
 */
const BRANDS = {
  acme: {
    host: 'acme.localhost',
    name: 'Acme Events',
    logo: '/static/img/acme-logo.svg',
    favicon: '/static/img/acme-icon.svg',
    colour: 'rgb(180, 54, 28)', // #b4361c
    lang: 'pl',
    room: '700-700-700', // its own catalog, deploy/brands/acme/rooms.toml
    roomName: 'Acme all-hands',
    token: 'acmehost700',
    foreign: ROOM, // the default's room; Acme has a catalog of its own
    supportButton: true, // support_url is set
    frameAncestors: "'self' https://intranet.acme.example",
    notFoundText: null,
  },
  globex: {
    host: 'globex.localhost',
    name: 'Globex Webinars',
    logo: '/static/img/globex-logo.svg',
    favicon: '/static/img/globex-logo.svg',
    colour: 'rgb(15, 118, 110)', // #0f766e
    lang: 'en',
    room: ROOM, // the default's rooms, but only 123-123-123 and 234-*
    roomName: 'Product demo',
    token: HOST_TOKEN,
    foreign: ROOM2, // a default room outside Globex's list
    supportButton: false,
    frameAncestors: "'self'",
    // Its own error.html (deploy/brands/globex/templates/).
    notFoundText: 'Globex Webinars: see your invitation e-mail for the right link.',
  },
  default: {
    host: '127.0.0.1',
    name: 'roomgate',
    logo: '/static/img/logo.svg',
    favicon: '/static/img/logo.svg',
    colour: 'rgb(31, 95, 214)', // #1f5fd6, config/default.toml
    lang: 'en',
    room: ROOM,
    roomName: 'Product demo',
    token: HOST_TOKEN,
    foreign: '700-700-700', // Acme's room
    supportButton: false, // support_url is empty in config/default.toml
    frameAncestors: "'self'", // config/default.toml
    notFoundText: null,
  },
};

/** A locale roomgate has no words for: every brand answers in its default language. */
const LOCALE = 'de-DE';

const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 360, height: 780 },
};

let env;
before(async () => {
  env = await startAll({ configFor: exampleFor });
});
after(async () => {
  await env?.stop();
});

/** `text` as a regular expression that matches it and nothing else. */
function literally(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `link` (a path) on `brand`'s host. */
function urlOn(brand, link) {
  return `http://${brand.host}:${env.app.port}${link}`;
}

/** What the page shows of its brand: name, logo, favicon, colours, language. */
function brandFacts(page) {
  return page.evaluate(() => {
    const logo = document.querySelector('img.brand__logo');
    const badge = document.querySelector('.badge');
    const button = document.querySelector('.button--primary');
    return {
      host: location.host,
      title: document.title,
      siteName: document.querySelector('.brand__name')?.textContent.trim() ?? null,
      logo: logo && {
        path: new URL(logo.src).pathname,
        origin: new URL(logo.src).origin,
        alt: logo.alt,
        loaded: logo.complete && logo.naturalWidth > 0 && logo.naturalHeight > 0,
      },
      favicon: new URL(document.querySelector('link[rel=icon]').href).pathname,
      lang: document.documentElement.lang,
      skipLink: document.querySelector('a.skip-link')?.textContent.trim() ?? null,
      skipLinkBackground: getComputedStyle(document.querySelector('a.skip-link')).backgroundColor,
      badgeDot: badge && getComputedStyle(badge, '::before').backgroundColor,
      buttonBackground: button && getComputedStyle(button).backgroundColor,
      h1: document.querySelector('h1')?.textContent.trim() ?? null,
    };
  });
}

/** Checks the brand's name, logo, favicon, colour and language on the page shown. */
async function assertBrand(page, brand) {
  const facts = await brandFacts(page);
  const origin = `http://${brand.host}:${env.app.port}`;
  assert.equal(facts.host, `${brand.host}:${env.app.port}`, 'the page is on the brand\'s host');
  assert.ok(facts.title.endsWith(` · ${brand.name}`), `the title names ${brand.name}: ${facts.title}`);
  assert.equal(facts.siteName, brand.name, 'the header names the brand');
  assert.deepEqual(facts.logo, { path: brand.logo, origin, alt: brand.name, loaded: true },
    'the header shows the brand\'s logo, loaded from its own host');
  assert.equal(facts.favicon, brand.favicon, 'the brand\'s favicon');
  // Opened by the browser: Node's resolver does not know *.localhost.
  const iconPage = await page.context().newPage();
  try {
    const icon = await iconPage.goto(`${origin}${brand.favicon}`, { timeout: WAIT_MS });
    assert.equal(icon.status(), 200, `the favicon ${brand.favicon} is served on the brand's host`);
    assert.match(icon.headers()['content-type'], /^image\/svg\+xml/);
  } finally {
    await iconPage.close();
  }
  assert.equal(facts.lang, brand.lang, '<html lang> is the brand\'s default language');
  assert.equal(facts.skipLink, word(brand.lang, 'skip_link'), `the words are in ${brand.lang}`);
  assert.equal(facts.skipLinkBackground, brand.colour, 'the skip link has the brand colour');
  return facts;
}

for (const [id, brand] of Object.entries(BRANDS)) {
  describe(`brand ${id} on ${brand.host}`, () => {
    test('its room page: name, logo, colour, language, the loader for its room, no CSP violation or console error', async (t) => {
      const context = await env.browser.newContext({ viewport: VIEWPORTS.desktop, locale: LOCALE });
      t.after(() => context.close());
      const { page, problems } = await instrumentedPage(context);
      const { response, loader, loaderRequests } = await openRoom(page, env.stub,
        urlOn(brand, `/room/${brand.room}/${brand.token}`));
      assert.equal(response.status(), 200);
      assert.match(await response.headerValue('content-security-policy'),
        new RegExp(`(^|; *)frame-ancestors ${literally(brand.frameAncestors)}(;|$)`),
        'the brand\'s frame-ancestors');

      const facts = await assertBrand(page, brand);
      assert.equal(facts.h1, brand.roomName, 'the room of this brand');
      assert.equal(facts.badgeDot, brand.colour, 'the role badge\'s dot has the brand colour');
      assert.equal(loaderRequests.length, 1, 'the loader is requested once');
      assert.deepEqual(
        loaderUrlProblems(loader, { ...baseOptions(brand.room), _role_token: brand.token }), [],
        `the loader URL ${loader.url}`);
      assert.deepEqual(await problems(), NO_PROBLEMS);
    });

    test('a room it does not serve: its own 404 page, no CSP violation or console error', async (t) => {
      const context = await env.browser.newContext({ viewport: VIEWPORTS.desktop, locale: LOCALE });
      t.after(() => context.close());
      const { page, problems } = await instrumentedPage(context);
      const since = env.stub.mark();
      const response = await page.goto(urlOn(brand, `/room/${brand.foreign}`),
        { waitUntil: 'networkidle', timeout: WAIT_MS });
      assert.equal(response.status(), 404, `the page is ${await describePage(page, response)}`);
      assert.equal((await pageFacts(page)).phase, 'error');
      const facts = await assertBrand(page, brand);
      assert.equal(facts.buttonBackground, brand.supportButton ? brand.colour : null,
        brand.supportButton ? 'the support button has the brand colour' : 'no support button');
      if (brand.supportButton) {
        assert.equal(await page.locator('.button--primary').innerText(), word(brand.lang, 'contact_support'));
      }
      if (brand.notFoundText) {
        assert.ok((await page.locator('main').innerText()).includes(brand.notFoundText),
          'the brand\'s own error template');
      }
      assert.deepEqual(env.stub.loaderRequests(since), [], 'no loader on a 404 page');
      // Chromium reports the document's own 404 on the console (as csp.test.mjs allows);
      // anything else is a problem.
      const seen = await problems();
      seen.consoleErrors = seen.consoleErrors.filter((e) => e !== 'Failed to load resource: '
        + `the server responded with a status of 404 (Not Found) (${response.url()})`);
      assert.deepEqual(seen, NO_PROBLEMS);
    });
  });
}

describe('languages', () => {
  test('a language the visitor asks for wins over the brand\'s default', async (t) => {
    const context = await env.browser.newContext({ viewport: VIEWPORTS.desktop, locale: 'en-US' });
    t.after(() => context.close());
    const page = await context.newPage();
    await openRoom(page, env.stub, urlOn(BRANDS.acme, `/room/${BRANDS.acme.room}`));
    const facts = await brandFacts(page);
    assert.deepEqual([facts.lang, facts.skipLink], ['en', word('en', 'skip_link')]);
  });
});

// ---------------------------------------------------------------------------------------
// axe on both brands

for (const id of ['acme', 'globex']) {
  const brand = BRANDS[id];
  for (const [device, viewport] of Object.entries(VIEWPORTS)) {
    describe(`axe: brand ${id}, ${device} (${viewport.width}×${viewport.height})`, () => {
      const pages = [
        { name: 'room page', link: `/room/${brand.room}`, status: 200, phase: 'live' },
        { name: 'host room page', link: `/room/${brand.room}/${brand.token}`, status: 200, phase: 'live' },
        { name: '404 page', link: `/room/${brand.foreign}`, status: 404, phase: 'error' },
      ];
      for (const spec of pages) {
        test(spec.name, async (t) => {
          const context = await env.browser.newContext({ viewport, locale: LOCALE });
          t.after(() => context.close());
          const page = await context.newPage();
          if (spec.status === 200) {
            await openRoom(page, env.stub, urlOn(brand, spec.link));
          } else {
            const response = await page.goto(urlOn(brand, spec.link), { waitUntil: 'networkidle', timeout: WAIT_MS });
            assert.equal(response.status(), spec.status);
          }
          await page.evaluate(() => document.fonts.ready);
          assert.equal((await pageFacts(page)).phase, spec.phase,
            `the ${spec.name} must be in phase "${spec.phase}"; it is ${await describePage(page)}`);
          assert.equal((await brandFacts(page)).siteName, brand.name, 'the brand\'s page');

          const results = await runAxe(page);
          t.diagnostic(`axe ${results.version}: ${results.passed} rules passed, `
            + `${results.inapplicable} not applicable, ${results.violations.length} violated`);
          assert.equal(results.violations.length, 0,
            `axe ${results.version} (${WCAG_TAGS.join(', ')}) found ${results.violations.length} `
            + `violation(s) on ${id}'s ${spec.name} [${device}] at ${page.url()}:\n`
            + describeViolations(results.violations));
        });
      }
    });
  }
}

// ---------------------------------------------------------------------------------------
// Screenshots

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Each brand's page in the side-by-side picture. */
const PANEL = { width: 640, height: 720 };
const GAP = 16;
const CAPTION = 40;
/** The README's copy stays small. */
const MAX_BYTES = 300_000;

/**
 * A screenshot (PNG bytes) of `brand`'s room, opened with its host link (so that the role
 * badge shows the brand colour too), at the panel's size.
 */
async function panel(brand) {
  const context = await env.browser.newContext({ viewport: PANEL, locale: LOCALE });
  try {
    const page = await context.newPage();
    await openRoom(page, env.stub, urlOn(brand, `/room/${brand.room}/${brand.token}?_nickname=Ada%20Lovelace`));
    await page.evaluate(() => document.fonts.ready);
    await assertBrand(page, brand);
    return { brand, png: await page.screenshot({ animations: 'disabled', caret: 'hide' }) };
  } finally {
    await context.close();
  }
}

test('screenshot: two brands side by side', async (t) => {
  const shots = [
    await panel(BRANDS.acme),
    await panel(BRANDS.globex),
  ];
  const width = 2 * PANEL.width + 3 * GAP;
  const height = PANEL.height + CAPTION + 2 * GAP;
  const context = await env.browser.newContext({ viewport: { width, height } });
  t.after(() => context.close());
  const page = await context.newPage();
  // A page of its own (about:blank, no CSP): the two screenshots as data: images, each
  // under its host name (without the port, which changes from run to run).
  const figures = shots.map(({ brand, png }) => `
    <figure>
      <figcaption>${brand.host} · ${brand.name} · ${brand.lang}</figcaption>
      <img alt="" width="${PANEL.width}" height="${PANEL.height}"
        src="data:image/png;base64,${png.toString('base64')}">
    </figure>`).join('');
  await page.setContent(`<!doctype html><html><head><style>
    html, body { margin: 0; background: #d9dde3; }
    body { display: flex; gap: ${GAP}px; padding: ${GAP}px; }
    figure { margin: 0; }
    figcaption { height: ${CAPTION}px; font: 600 16px/${CAPTION}px sans-serif; color: #1f2328; }
    img { display: block; box-shadow: 0 1px 3px rgba(0, 0, 0, .25); }
  </style></head><body>${figures}</body></html>`, { waitUntil: 'load' });
  assert.ok(await page.evaluate(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0)),
    'both screenshots load');

  const file = artifactPath('brands-side-by-side.png');
  await page.screenshot({ path: file, animations: 'disabled' });
  const bytes = readFileSync(file);
  assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE), 'a PNG');
  assert.ok(bytes.length > 2_000, 'not empty');
  assert.ok(bytes.length < MAX_BYTES, `${bytes.length} bytes, under ${MAX_BYTES}`);
  console.log(`screenshot: ${path.relative(REPO_ROOT, file)}`);
  if (process.env.ROOMGATE_UPDATE_DOCS === '1') {
    const doc = path.join(REPO_ROOT, 'docs', 'brands-side-by-side.png');
    copyFileSync(file, doc);
    console.log(`screenshot: ${path.relative(REPO_ROOT, doc)} (${statSync(doc).size} bytes)`);
  }
});
