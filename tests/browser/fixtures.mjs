// Fixtures shared by every browser test file: the stub of the vendor's embed loader,
// roomgate itself (the debug binary, on a free loopback port), headless Chromium, and an
// instrumented page that collects CSP violations, console errors and page errors.
//
// Each test file starts its own fixtures in `before` and stops them in `after`, so files
// can run in any order and never see each other's loader requests.

import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

/** The repository root (roomgate runs with it as its working directory). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Screenshots and other files a person may want to look at after a run. */
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'target', 'browser-artifacts');

/**
 * Rooms and role tokens of the browser suite's catalog (see `catalogFor`): the rooms of
 * tests/fixtures/rooms.toml, with the scheduled ones moved relative to the moment roomgate
 * starts, plus two scheduled rooms of its own. Each room is always in the phase its
 * comment says, whatever the date.
 */
export const ROOM = '123-123-123';
export const ROOM2 = '222-222-222';
/** Scheduled, not strict, starts in about 2 hours: "upcoming" (the embed and a countdown). */
export const SCHEDULED = '234-234-234';
export const INACTIVE = '345-345-345';
/** Strict, starts in about 3 hours: "waiting" (no embed, a countdown to the opening). */
export const STRICT = '456-456-456';
/** Repeats weekly; its first occurrence starts in about 2 hours: "upcoming". */
export const WEEKLY = '567-567-567';
/** Strict, repeats daily for a week; its first occurrence starts in about 3 hours: "waiting". */
export const DAILY = '678-678-678';
/** Not in the fixture. Scheduled, ended about 2 hours ago: "ended" (no embed, no countdown). */
export const ENDED = '801-801-801';
/** Not in the fixture. Scheduled, started 30 minutes ago, for 4 hours: "live" (no countdown). */
export const LIVE_SCHEDULED = '802-802-802';
export const UNKNOWN = '999-999-999';
export const HOST_TOKEN = 'HostToken123';
export const PRESENTER_TOKEN = 'PresenterToken456';
/** The host token of STRICT: hosts get the room before it opens to everyone else. */
export const STRICT_HOST_TOKEN = 'StrictHost1';

/** The id of the element the vendor's embed fills (`_widget_containerID`). */
export const CONTAINER_ID = 'roomgate-room';

/** How long any single wait may take before the test fails. */
export const WAIT_MS = 15_000;

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// ---------------------------------------------------------------------------------------
// Ports

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

// ---------------------------------------------------------------------------------------
// The vendor's embed loader

/**
 * A stub of the vendor's embed loader on a free loopback port. `GET /em?…` answers a tiny
 * script that marks the page's `window.Widget` queue as initialised; anything else is a
 * 404. Every request is recorded, in order, as `{ method, url, rawQuery }`, where `url` is
 * the absolute URL as received (the query exactly as the browser sent it).
 */
export async function startEmbedStub() {
  const requests = [];
  const events = new EventEmitter();
  let origin = '';
  const server = http.createServer((req, res) => {
    const rawTarget = req.url;
    const queryAt = rawTarget.indexOf('?');
    const record = {
      method: req.method,
      url: `${origin}${rawTarget}`,
      path: queryAt === -1 ? rawTarget : rawTarget.slice(0, queryAt),
      rawQuery: queryAt === -1 ? '' : rawTarget.slice(queryAt + 1),
    };
    requests.push(record);
    events.emit('request', record);
    if (req.method === 'GET' && record.path === '/em') {
      res.writeHead(200, {
        'content-type': 'application/javascript; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end('window.Widget.initialized = true;\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    /** Every request so far. */
    requests,
    /** The loader requests (`GET /em`) recorded from index `since` on. */
    loaderRequests(since = 0) {
      return requests.slice(since).filter((r) => r.path === '/em');
    },
    /** A position in the record, to read only what comes after it. */
    mark() {
      return requests.length;
    },
    /**
     * Resolves with the first loader request recorded at or after `since`. Give the
     * `page` that should make it (and the `response` that loaded it, if at hand): on a
     * timeout the error then says what that page shows instead (its status, phase and
     * heading), which is nearly always the cause.
     */
    waitForLoaderRequest(since = 0, { page = null, response = null, timeoutMs = WAIT_MS } = {}) {
      const already = requests.slice(since).find((r) => r.path === '/em');
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const onRequest = (record) => {
          if (record.path !== '/em') return;
          clearTimeout(timer);
          events.off('request', onRequest);
          resolve(record);
        };
        const timer = setTimeout(async () => {
          events.off('request', onRequest);
          const got = page ? `; the page is ${await describePage(page, response)}` : '';
          reject(new Error(`no loader request within ${timeoutMs} ms${got}`));
        }, timeoutMs);
        events.on('request', onRequest);
      });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

// ---------------------------------------------------------------------------------------
// roomgate

const ROOMGATE_BIN = path.join('target', 'debug', 'roomgate');

// ---------------------------------------------------------------------------------------
// The catalog
//
// roomgate and Chromium both run on the real clock, so a scheduled room with a fixed date
// would be upcoming one week and ended the next, and the tests that need it would fail
// for no fault of the code. The Rust tests use tests/fixtures/rooms.toml with a fixed,
// injected clock; this suite runs roomgate on a copy of that file written for the moment
// it starts, in which every scheduled room starts relative to now.

/** The Rust suite's catalog, the source of ours (repo-relative, read only). */
const FIXTURE_CATALOG = path.join('tests', 'fixtures', 'rooms.toml');

const MINUTE_MS = 60_000;

const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * When each scheduled room of the fixture starts, in minutes from now, and for repeating
 * rooms with an end date, how many days from now that is. Each room keeps its phase for
 * more than an hour, far longer than a run. Strict rooms admit visitors from 60 minutes
 * before their start (src/room/schedule.rs), so a strict room starting in 3 hours waits
 * for 2 hours.
 */
const FIXTURE_SCHEDULES = {
  [SCHEDULED]: { start: 120 }, // 90 minutes long, not strict: upcoming for 2 hours
  [STRICT]: { start: 180 }, // 60 minutes long, strict: waiting for 2 hours
  [WEEKLY]: { start: 120 }, // not strict: upcoming for 2 hours
  [DAILY]: { start: 180, untilDays: 7 }, // strict: waiting for 2 hours
};

/** The phases the fixture has no room for, as rooms of our own (start in minutes from now). */
const EXTRA_ROOMS = [
  { license: ENDED, name: 'Finished workshop', start: -180, duration: 60, host: 'EndedHost1' },
  { license: LIVE_SCHEDULED, name: 'Running workshop', start: -30, duration: 240, host: 'LiveHost1' },
];

/**
 * The text of the browser suite's catalog for the instant `now` (ms): the fixture's text
 * with the dates of each scheduled room (`start`, and `until` if it has one) replaced as
 * FIXTURE_SCHEDULES says, then EXTRA_ROOMS. Returns the text and the start of every
 * scheduled room by key (ISO 8601), for tests that check the times. A dated room of the
 * fixture that FIXTURE_SCHEDULES does not know is an error: left as it is, it would make
 * the suite depend on the date again.
 */
export function catalogFor(now) {
  // Whole minutes, as a person would write them in a catalog.
  const base = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const at = (minutes) => new Date(base + minutes * MINUTE_MS).toISOString().replace('.000Z', 'Z');
  // A date, as `until` takes it. Days ahead, so a time zone cannot move it to today.
  const day = (days) => new Date(base + days * DAY_MS).toISOString().slice(0, 10);
  const starts = {};
  const dated = /^(start|until)\s*=.*$/gm;

  const fixture = readFileSync(path.join(REPO_ROOT, FIXTURE_CATALOG), 'utf8');
  // Without the fixture's own comments: they speak of its fixed dates, wrong here.
  const withoutComments = fixture.replace(/^[ \t]*#.*\n/gm, '');
  // One chunk per [[rooms]] table; the first chunk is whatever comes before the first.
  const chunks = withoutComments.split(/^(?=\[\[rooms\]\][ \t]*$)/m).map((chunk) => {
    if (!chunk.match(dated)) return chunk;
    const license = chunk.match(/^license\s*=\s*"([^"]*)"/m)?.[1];
    const schedule = FIXTURE_SCHEDULES[license];
    const unknown = (key) => new Error(`${FIXTURE_CATALOG}: room ${license} has a fixed ${key}; `
      + 'give it one relative to now in FIXTURE_SCHEDULES (tests/browser/fixtures.mjs)');
    return chunk.replace(dated, (line, key) => {
      if (key === 'start') {
        if (schedule?.start === undefined) throw unknown(key);
        starts[license] = at(schedule.start);
        return `start = "${starts[license]}"`;
      }
      if (schedule?.untilDays === undefined) throw unknown(key);
      return `until = "${day(schedule.untilDays)}"`;
    });
  });
  const missing = Object.keys(FIXTURE_SCHEDULES).filter((license) => !(license in starts));
  if (missing.length > 0) {
    throw new Error(`${FIXTURE_CATALOG} has no scheduled room ${missing.join(', ')} any more`);
  }
  const taken = EXTRA_ROOMS.filter((room) => fixture.includes(`"${room.license}"`));
  if (taken.length > 0) {
    throw new Error(`${FIXTURE_CATALOG} now has room ${taken.map((r) => r.license).join(', ')}: `
      + 'give EXTRA_ROOMS in tests/browser/fixtures.mjs other keys');
  }

  const extra = EXTRA_ROOMS.map((room) => {
    starts[room.license] = at(room.start);
    return [
      '',
      '[[rooms]]',
      `license = "${room.license}"`,
      `name = "${room.name}"`,
      'type = "scheduled"',
      `start = "${starts[room.license]}"`,
      `duration_minutes = ${room.duration}`,
      'timezone = "Europe/Warsaw"',
      `roles = { host = "${room.host}" }`,
    ].join('\n');
  });

  const text = [
    `# Written by tests/browser/fixtures.mjs for a run started at ${new Date(now).toISOString()}:`,
    `# ${FIXTURE_CATALOG} with its scheduled rooms starting relative to then, and rooms`,
    '# in the phases it has none for. Deleted when that roomgate stops.',
    '',
    chunks.join('').trim(),
    ...extra,
    '',
  ].join('\n');
  return { text, starts };
}

/**
 * Starts `target/debug/roomgate` (built beforehand) with a catalog written for now (see
 * `catalogFor`), the loader stub as the embed host and the extra environment `env`, and
 * waits until `/healthz` answers 200. Returns `{ origin, port, url(path), stop(), output(),
 * starts }`, `starts` being the start of each scheduled room by key (ISO 8601).
 *
 * `configFor(port)`, if given, returns the text of an extra settings file (brands, …),
 * written beside the catalog and passed as `ROOMGATE_CONFIG_FILE`; it gets the port
 * roomgate will listen on, for host names and public URLs that carry it.
 */
export async function startRoomgate({ embedOrigin, env = {}, configFor = null }) {
  if (!existsSync(path.join(REPO_ROOT, ROOMGATE_BIN))) {
    throw new Error(`${ROOMGATE_BIN} is missing: run cargo build --bin roomgate first`);
  }
  const { text, starts } = catalogFor(Date.now());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roomgate-browser-'));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  const catalogPath = path.join(dir, 'rooms.toml');
  await writeFile(catalogPath, text);

  // The port is chosen before roomgate binds it; if another process takes it meanwhile,
  // roomgate exits and we try again with another port.
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const extra = {};
    if (configFor) {
      extra.ROOMGATE_CONFIG_FILE = path.join(dir, 'config.toml');
      await writeFile(extra.ROOMGATE_CONFIG_FILE, configFor(port));
    }
    try {
      const app = await launchRoomgate(port, embedOrigin, {
        ROOMGATE__CATALOG__PATH: catalogPath, ...extra, ...env,
      });
      return {
        ...app,
        starts,
        async stop() {
          await app.stop();
          await removeDir();
        },
      };
    } catch (err) {
      lastError = err;
    }
  }
  await removeDir();
  throw lastError;
}

async function launchRoomgate(port, embedOrigin, extraEnv) {
  const origin = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    ROOMGATE__SERVER__PORT: String(port),
    ROOMGATE__SERVER__PUBLIC_URL: origin,
    ROOMGATE__EMBED__BASE_URL: embedOrigin,
    ROOMGATE__LOG__LEVEL: 'warn',
    ...extraEnv,
  };
  // Settings must come from the repo's config files and this environment alone.
  delete env.RUST_LOG;
  delete env.ROOMGATE_ENV;
  if (!extraEnv.ROOMGATE_CONFIG_FILE) delete env.ROOMGATE_CONFIG_FILE;

  const child = spawn(ROOMGATE_BIN, [], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const stop = async () => {
    if (exited) return;
    const done = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(timer);
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      throw new Error(`roomgate exited (${JSON.stringify(exited)}) before it answered:\n${output}`);
    }
    try {
      const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`roomgate did not answer /healthz with 200 within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    origin,
    port,
    url: (p) => `${origin}${p}`,
    output: () => output,
    stop,
  };
}

// ---------------------------------------------------------------------------------------
// The browser

/** Debian's Chromium, headless, with a fresh profile; never a downloaded browser. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

/**
 * Everything one test file needs: the loader stub, roomgate (with `env` added to its
 * environment and `configFor` as `startRoomgate` takes it) and the browser. `stop()` ends
 * all three.
 */
export async function startAll({ env = {}, configFor = null } = {}) {
  const stub = await startEmbedStub();
  let app;
  let browser;
  try {
    app = await startRoomgate({ embedOrigin: stub.origin, env, configFor });
    browser = await launchBrowser();
  } catch (err) {
    await app?.stop();
    await stub.close();
    throw err;
  }
  return {
    stub,
    app,
    browser,
    async stop() {
      await browser.close().catch(() => {});
      await app.stop();
      await stub.close();
    },
  };
}

// Runs in every document before its own scripts: keeps each CSP violation on `window`.
// (Init scripts are injected by the browser itself, so the page's CSP does not apply.)
function recordCspViolations() {
  window.__cspViolations = [];
  // On window, capturing: violations are fired at elements or at the document.
  window.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({
      directive: e.violatedDirective,
      blockedURI: e.blockedURI,
      sample: e.sample,
      source: `${e.sourceFile}:${e.lineNumber}`,
    });
  }, true);
}

/**
 * A new page in `context` that records CSP violations (on `window.__cspViolations`),
 * console errors, uncaught page errors and dialogs. `problems()` returns them all; a
 * console error about the favicon is left out (the only expected one, if any).
 */
export async function instrumentedPage(context) {
  await context.addInitScript(recordCspViolations);
  const page = await context.newPage();
  const consoleErrors = [];
  const pageErrors = [];
  const dialogs = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location()?.url ?? '';
    if (/\/favicon\.ico(\?|$)/.test(where)) return;
    consoleErrors.push(`${msg.text()} (${where})`);
  });
  page.on('pageerror', (err) => pageErrors.push(String(err?.stack ?? err)));
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });

  return {
    page,
    consoleErrors,
    pageErrors,
    dialogs,
    /** Forgets the console errors, page errors and dialogs seen so far. */
    reset() {
      consoleErrors.length = 0;
      pageErrors.length = 0;
      dialogs.length = 0;
    },
    /** CSP violations seen by the current document. */
    cspViolations: () => page.evaluate(() => window.__cspViolations ?? null),
    /** Everything that went wrong on this page so far, as plain data for deepEqual. */
    async problems() {
      return {
        cspViolations: await page.evaluate(() => window.__cspViolations ?? null),
        consoleErrors: [...consoleErrors],
        pageErrors: [...pageErrors],
        dialogs: [...dialogs],
      };
    },
  };
}

/** What `problems()` gives for a page where nothing went wrong. */
export const NO_PROBLEMS = Object.freeze({
  cspViolations: [],
  consoleErrors: [],
  pageErrors: [],
  dialogs: [],
});

// ---------------------------------------------------------------------------------------
// The room page

/**
 * What `page` shows, read from its markup: the HTTP status of its document, its phase,
 * its `<h1>`, whether it has the embed data block and a countdown, and how the phase was
 * told. The phase is one of live, upcoming, waiting, ended (room pages), prompt (the name
 * prompt), error, notice or unknown. roomgate does not write the phase into the page, so
 * it is inferred: the waiting and ended cards have their own classes, and a room page
 * with the embed is upcoming when it has a countdown, live otherwise. (A `data-phase`
 * attribute, should the page ever get one, takes precedence.)
 */
export function pageFacts(page) {
  return page.evaluate(() => {
    const has = (selector) => document.querySelector(selector) !== null;
    const body = document.body?.classList ?? { contains: () => false };
    const rules = [
      ['data-phase', () => document.querySelector('[data-phase]')?.getAttribute('data-phase')],
      ['body.page-error', () => body.contains('page-error') && 'error'],
      ['body.page-notice', () => body.contains('page-notice') && 'notice'],
      ['the #nickname form', () => has('form #nickname') && 'prompt'],
      ['.room-state--ended', () => has('.room-state--ended') && 'ended'],
      ['.room-state--waiting', () => has('.room-state--waiting') && 'waiting'],
      ['the embed and a countdown', () => has('#roomgate-embed') && has('[data-countdown-to]') && 'upcoming'],
      ['the embed, no countdown', () => has('#roomgate-embed') && 'live'],
    ];
    let phase = 'unknown';
    let clue = 'no known page element';
    for (const [what, test] of rules) {
      const found = test();
      if (found) {
        phase = found;
        clue = what;
        break;
      }
    }
    return {
      url: location.href,
      // The status of the document now shown (Chromium fills it in for navigations; not
      // under Playwright's fake clock, which replaces `performance`).
      status: performance.getEntriesByType?.('navigation')[0]?.responseStatus ?? null,
      phase,
      clue,
      h1: document.querySelector('h1')?.textContent.trim().replace(/\s+/g, ' ') ?? null,
      embed: has('#roomgate-embed'),
      countdown: has('[data-countdown-to]'),
    };
  });
}

/**
 * `pageFacts` as one line for a failure message, e.g. `HTTP 200 at /room/234-234-234,
 * phase "ended" (from .room-state--ended), h1 "…", no embed data block, no countdown`.
 * `response`, the navigation's response if at hand, gives the status when the page
 * cannot.
 */
export async function describePage(page, response = null) {
  let facts;
  try {
    facts = await pageFacts(page);
  } catch (err) {
    // A page that is navigating or closed cannot be read; say so instead.
    return `${page.url()} (its content could not be read: ${err.message.split('\n')[0]})`;
  }
  const where = new URL(facts.url);
  const status = facts.status || response?.status() || '(status unknown)';
  return `HTTP ${status} at ${where.pathname}${where.search}, `
    + `phase "${facts.phase}" (from ${facts.clue}), `
    + `h1 ${facts.h1 === null ? '(none)' : JSON.stringify(facts.h1)}, `
    + `${facts.embed ? 'with' : 'no'} embed data block, ${facts.countdown ? 'with' : 'no'} countdown`;
}

/** The options the page script read from the page's data block. */
export function embedBlock(page) {
  return page.evaluate(() => {
    const el = document.getElementById('roomgate-embed');
    return el ? JSON.parse(el.textContent) : null;
  });
}

// ---------------------------------------------------------------------------------------
// Loader URLs

/** The options every loader request carries, for room `license` with default settings. */
export function baseOptions(license) {
  return {
    t: license,
    _license_key: license,
    _widget_containerID: CONTAINER_ID,
    _widget_width: '100%',
    _widget_height: '100%',
    _disable_target_top: '1',
  };
}

// What encodeURIComponent leaves as it is, plus the %XX escapes; `'` may also arrive as
// %27 (Chromium's URL parser escapes it in queries of http URLs).
const ENCODED_VALUE = /^(?:[A-Za-z0-9\-_.!~*'()]|%[0-9A-F]{2})*$/;

/**
 * Splits a raw query into `[name, rawValue]` pairs, without decoding, so that a value that
 * was not percent-encoded (a raw `&`, `=`, `+`, space …) shows up as an extra or broken
 * parameter.
 */
export function rawPairs(rawQuery) {
  if (rawQuery === '') return [];
  return rawQuery.split('&').map((part) => {
    const eq = part.indexOf('=');
    return eq === -1 ? [part, null] : [part.slice(0, eq), part.slice(eq + 1)];
  });
}

/**
 * Checks a recorded loader request against `expected` (name → value): the path is `/em`,
 * `t` comes first, the parameters are exactly the expected ones, each once, and each raw
 * value is percent-encoded on its own and decodes to the expected value. Returns a list
 * of problems (empty when the URL is right).
 */
export function loaderUrlProblems(record, expected) {
  const problems = [];
  const url = new URL(record.url);
  if (url.pathname !== '/em') problems.push(`path is ${url.pathname}, not /em`);

  const expectedNames = Object.keys(expected).sort();
  const gotNames = [...new Set(url.searchParams.keys())].sort();
  if (JSON.stringify(gotNames) !== JSON.stringify(expectedNames)) {
    problems.push(`parameters are ${JSON.stringify(gotNames)}, expected ${JSON.stringify(expectedNames)}`);
  }
  for (const [name, value] of Object.entries(expected)) {
    const all = url.searchParams.getAll(name);
    if (all.length !== 1) problems.push(`${name} appears ${all.length} times`);
    else if (all[0] !== value) problems.push(`${name} is ${JSON.stringify(all[0])}, expected ${JSON.stringify(value)}`);
  }

  const pairs = rawPairs(record.rawQuery);
  if (pairs.length > 0 && pairs[0][0] !== 't') problems.push(`the query starts with ${pairs[0][0]}, not t`);
  if (pairs.length !== expectedNames.length) {
    problems.push(`the raw query has ${pairs.length} parts, expected ${expectedNames.length}`);
  }
  for (const [name, raw] of pairs) {
    if (!Object.hasOwn(expected, name)) {
      problems.push(`unexpected raw parameter ${JSON.stringify(name)}`);
      continue;
    }
    if (raw === null || !ENCODED_VALUE.test(raw)) {
      problems.push(`${name}'s raw value ${JSON.stringify(raw)} is not percent-encoded`);
      continue;
    }
    let decoded;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      problems.push(`${name}'s raw value ${JSON.stringify(raw)} does not decode`);
      continue;
    }
    if (decoded !== expected[name]) {
      problems.push(`${name}'s raw value decodes to ${JSON.stringify(decoded)}, expected ${JSON.stringify(expected[name])}`);
    }
  }
  return problems;
}

/** Makes `target/browser-artifacts/` and returns the path of `name` in it. */
export function artifactPath(name) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}

/** A query string `?a=…&b=…` with every value percent-encoded. */
export function query(params) {
  const parts = Object.entries(params).map(
    ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`,
  );
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * Opens room link `url` in `page` and waits for its loader request and for the loader to
 * have run. Returns the response, the first loader request and every loader request the
 * page made. With `idle` (the default) it also waits for the network to be idle first, so
 * that a second loader request, if the page made one, is among them. When no loader
 * request comes, the error says what the page shows instead (`describePage`).
 */
export async function openRoom(page, stub, url, { idle = true } = {}) {
  const since = stub.mark();
  const response = await page.goto(url, { waitUntil: 'load', timeout: WAIT_MS });
  const loader = await stub.waitForLoaderRequest(since, { page, response });
  // The loader script is inserted before the load event, so it has normally run by now.
  const initialized = () => typeof window.Widget === 'function' && window.Widget.initialized === true;
  if (!(await page.evaluate(initialized))) {
    await page.waitForFunction(initialized, null, { timeout: WAIT_MS });
  }
  if (idle) await page.waitForLoadState('networkidle', { timeout: WAIT_MS });
  return { response, loader, loaderRequests: stub.loaderRequests(since) };
}

/** Resolves once `condition()` is true; fails after `timeoutMs`. */
export async function waitUntil(condition, what, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Submits the name prompt with `action` (a click or a key press) and waits for the page
 * the answer leads to. Returns the answer to the POST itself (303 when accepted).
 */
export async function submitPrompt(page, action) {
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.request().method() === 'POST' && /^\/room\/[^/]+\/join$/.test(new URL(r.url()).pathname),
      { timeout: WAIT_MS }),
    action(),
  ]);
  await page.waitForLoadState('load', { timeout: WAIT_MS });
  return response;
}

/** The request headers that decide whether roomgate takes a form post as same-origin. */
export async function postOriginNote(response) {
  const headers = await response.request().allHeaders();
  return `status ${response.status()}; request Origin: ${headers.origin}, `
    + `Sec-Fetch-Site: ${headers['sec-fetch-site']}`;
}
