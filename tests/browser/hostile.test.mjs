// Hostile values in the query (nicknames, avatar URLs, tokens, email addresses) and in
// the name prompt never run script, never pollute prototypes, never add elements, never
// cause a CSP violation, and reach the loader only as one percent-encoded option.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  NO_PROBLEMS,
  ROOM,
  WAIT_MS,
  baseOptions,
  embedBlock,
  instrumentedPage,
  loaderUrlProblems,
  openRoom,
  postOriginNote,
  startAll,
  startRoomgate,
  submitPrompt,
} from './fixtures.mjs';
import { PROMPT_ACCEPTED, PROMPT_REFUSED, valuesFor } from './hostile-values.mjs';

const ROOM_LINK = `/room/${ROOM}`;

/** A harmless value of each kind: the page it gives is the baseline. */
const HARMLESS = {
  _nickname: 'Ada Lovelace',
  _avatar_url: 'https://images.example.com/ada.png',
  _personal_token: 'Tok_1',
  _email: 'ada@example.com',
};

/** What the server must make of a value, where the README says exactly (else undefined). */
const EXPECTED_VALUE = {
  // Control and bidi formatting characters removed, trimmed, 1 to 100 characters; absurd
  // input refused.
  _nickname(value) {
    if (new TextEncoder().encode(value).length > 800) return null;
    const cleaned = value.replace(/[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu, '').trim();
    const chars = [...cleaned].length;
    return chars >= 1 && chars <= 100 ? cleaned : null;
  },
  _personal_token(value) {
    return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : null;
  },
};

/** What any accepted value of the kind must look like. */
const ACCEPTABLE = {
  _nickname: (v) => !/\p{Cc}/u.test(v) && [...v].length <= 100,
  _personal_token: (v) => /^[A-Za-z0-9_-]{1,128}$/.test(v),
  _email: (v) => !/\p{Cc}/u.test(v) && new TextEncoder().encode(v).length <= 254 && v.includes('@'),
  _avatar_url: (v) => {
    const url = new URL(v);
    return url.protocol === 'https:' && url.hostname !== '' && url.username === ''
      && url.password === '' && new TextEncoder().encode(v).length <= 2048;
  },
};

/** The elements and attributes injected markup would add. */
function domCensus() {
  const all = [...document.querySelectorAll('*')];
  const count = (selector) => document.querySelectorAll(selector).length;
  const scriptUrl = /^\s*(javascript|vbscript|data):/i;
  return {
    elements: all.length,
    script: count('script'),
    img: count('img'),
    svg: count('svg'),
    iframe: count('iframe, frame, object, embed'),
    style: count('style, link'),
    meta: count('meta, base'),
    forms: count('form, input, button, textarea, select'),
    links: count('a'),
    handlers: all.reduce((n, el) => n + [...el.attributes].filter((a) => /^on/i.test(a.name)).length, 0),
    scriptUrls: all.filter((el) => ['href', 'src', 'action', 'formaction', 'data']
      .some((name) => scriptUrl.test(el.getAttribute(name) ?? ''))).length,
  };
}

/** Nothing ran, nothing was polluted. */
function sideEffects() {
  return {
    pwned: typeof window.__pwned,
    polluted: typeof ({}).polluted,
    prototypePolluted: Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'),
    globalPolluted: typeof window.polluted,
  };
}
const NO_SIDE_EFFECTS = {
  pwned: 'undefined',
  polluted: 'undefined',
  prototypePolluted: false,
  globalPolluted: 'undefined',
};

/** A value as a readable, single-line test name. */
function show(value) {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function queryValue(entry) {
  return entry.raw ?? encodeURIComponent(entry.value);
}

let env;
let promptApp;
const tried = {};

before(async () => {
  env = await startAll();
  promptApp = await startRoomgate({
    embedOrigin: env.stub.origin,
    env: { ROOMGATE__ROOMS__REQUIRE_NICKNAME: 'true' },
  });
});

after(async () => {
  await promptApp?.stop();
  await env?.stop();
  const lines = Object.entries(tried).map(([kind, n]) => `  ${kind}: ${n}`);
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  console.log(`hostile inputs tried per kind (${total} in all):\n${lines.join('\n')}`);
});

/**
 * Opens `link` in `page`, waits for the room and checks everything that must hold on any
 * page. Returns the value of `kind` in the page's data block (or null).
 */
async function openAndCheck(recorder, link, kind, baseline) {
  const { page } = recorder;
  const { response, loader, loaderRequests } =
    await openRoom(page, env.stub, env.app.url(link), { idle: false });
  assert.equal(response.status(), 200, 'status');
  assert.equal(loaderRequests.length, 1, 'one loader request');
  assert.deepEqual(await page.evaluate(sideEffects), NO_SIDE_EFFECTS, 'side effects');
  assert.deepEqual(await page.evaluate(domCensus), baseline, 'elements compared with a harmless value');
  assert.deepEqual(await recorder.problems(), NO_PROBLEMS, 'CSP violations and errors');
  assert.ok(page.url().startsWith(env.app.url(ROOM_LINK)), `still on the room page: ${page.url()}`);

  const options = (await embedBlock(page)).options;
  const extra = Object.keys(options).filter((k) => !(k in baseOptions(ROOM)) && k !== kind);
  assert.deepEqual(extra, [], 'no other option in the data block');
  const value = options[kind] ?? null;
  const expected = { ...baseOptions(ROOM), ...(value === null ? {} : { [kind]: value }) };
  assert.deepEqual(loaderUrlProblems(loader, expected), [], 'loader URL');
  if (value !== null) assert.ok(ACCEPTABLE[kind](value), `accepted ${JSON.stringify(value)}`);
  return value;
}

for (const kind of Object.keys(HARMLESS)) {
  describe(`hostile ${kind} in the query`, () => {
    const entries = valuesFor(kind);
    let baseline;
    // One page for all the values of this kind; its cookies are cleared before each
    // value, so every value starts with a fresh session.
    let context;
    let recorder;

    before(async () => {
      tried[kind] = entries.length;
      context = await env.browser.newContext();
      recorder = await instrumentedPage(context);
      await openRoom(recorder.page, env.stub,
        env.app.url(`${ROOM_LINK}?${kind}=${encodeURIComponent(HARMLESS[kind])}`));
      baseline = await recorder.page.evaluate(domCensus);
      assert.equal((await embedBlock(recorder.page)).options[kind], HARMLESS[kind],
        'the harmless value is used');
    });
    after(async () => { await context?.close(); });

    for (const entry of entries) {
      test(entry.label, async () => {
        await context.clearCookies();
        recorder.reset();
        // From the query …
        const fromQuery = await openAndCheck(
          recorder, `${ROOM_LINK}?${kind}=${queryValue(entry)}`, kind, baseline);
        if (entry.raw === undefined && EXPECTED_VALUE[kind]) {
          assert.equal(fromQuery, EXPECTED_VALUE[kind](entry.value), 'the value the server kept');
        }
        // … and, where it was kept, again from the session on the clean link.
        if (fromQuery !== null) {
          const fromSession = await openAndCheck(recorder, ROOM_LINK, kind, baseline);
          assert.equal(fromSession, fromQuery, 'the session remembers what the query gave');
        }
      });
    }
  });
}

describe('the checks themselves', () => {
  test('notice markup injected into the page, which the CSP keeps from running', async () => {
    const context = await env.browser.newContext();
    try {
      const recorder = await instrumentedPage(context);
      const { page } = recorder;
      await openRoom(page, env.stub, env.app.url(`${ROOM_LINK}?_nickname=Ada`), { idle: false });
      const baseline = await page.evaluate(domCensus);
      await page.evaluate(() => document.body.insertAdjacentHTML('beforeend',
        '<img src="x" onerror="window.__pwned=1"><a href="javascript:window.__pwned=1">x</a>'));
      await page.waitForFunction(() => window.__cspViolations.length > 0, null, { timeout: WAIT_MS });
      const census = await page.evaluate(domCensus);
      assert.equal(census.img, baseline.img + 1);
      assert.equal(census.handlers, baseline.handlers + 1);
      assert.equal(census.scriptUrls, baseline.scriptUrls + 1);
      assert.deepEqual(await page.evaluate(sideEffects), NO_SIDE_EFFECTS, 'the CSP blocked the handler');
      assert.notDeepEqual(await recorder.problems(), NO_PROBLEMS);
    } finally {
      await context.close();
    }
  });
});

describe('hostile names typed into the name prompt', () => {
  let promptBaseline;
  let roomBaseline;
  let refusedBaseline;

  /** A fresh context showing the prompt, with its recorder. */
  async function openPrompt() {
    const context = await env.browser.newContext();
    const recorder = await instrumentedPage(context);
    const response = await recorder.page.goto(promptApp.url(ROOM_LINK), { waitUntil: 'load' });
    assert.equal(response.status(), 200);
    await recorder.page.locator('#nickname').waitFor({ timeout: WAIT_MS });
    return { context, recorder };
  }

  /** Types `name` and submits it; maxlength is removed first, as an attacker's client would. */
  async function submit(page, name) {
    await page.locator('#nickname').evaluate((input) => input.removeAttribute('maxlength'));
    await page.locator('#nickname').fill(name);
    return submitPrompt(page, () => page.locator('form button[type=submit]').click());
  }

  /** The page of a harmless refused name (101 characters), once. */
  async function refusedPageCensus() {
    if (!refusedBaseline) {
      const { context, recorder } = await openPrompt();
      try {
        const response = await submit(recorder.page, 'x'.repeat(101));
        assert.equal(response.status(), 422,
          `a 101-character name must be refused with 422 (${await postOriginNote(response)})`);
        refusedBaseline = await recorder.page.evaluate(domCensus);
      } finally {
        await context.close();
      }
    }
    return refusedBaseline;
  }

  before(async () => {
    tried['name prompt'] = PROMPT_REFUSED.length + PROMPT_ACCEPTED.length;
    const { context, recorder } = await openPrompt();
    try {
      promptBaseline = await recorder.page.evaluate(domCensus);
    } finally {
      await context.close();
    }
    const room = await env.browser.newContext();
    try {
      const { page } = await instrumentedPage(room);
      await openRoom(page, env.stub, promptApp.url(`${ROOM_LINK}?_nickname=Ada`));
      roomBaseline = await page.evaluate(domCensus);
    } finally {
      await room.close();
    }
  });

  for (const name of PROMPT_REFUSED) {
    test(`refused and shown again: ${show(name.slice(0, 48))}…`, async () => {
      const baseline = await refusedPageCensus();
      const { context, recorder } = await openPrompt();
      try {
        const { page } = recorder;
        assert.deepEqual(await page.evaluate(domCensus), promptBaseline);
        const response = await submit(page, name);
        assert.equal(response.status(), 422, `the name is refused (${await postOriginNote(response)})`);
        assert.deepEqual(await page.evaluate(sideEffects), NO_SIDE_EFFECTS);
        assert.deepEqual(await page.evaluate(domCensus), baseline);
        assert.equal(await page.locator('#nickname').inputValue(), name.slice(0, 100),
          'the name comes back as text, cut to 100 characters');
        const problems = await recorder.problems();
        // The 422 itself is reported on the console; nothing else may be.
        problems.consoleErrors = problems.consoleErrors.filter(
          (e) => !/status of 422 .*\/join\)$/.test(e));
        assert.deepEqual(problems, NO_PROBLEMS);
      } finally {
        await context.close();
      }
    });
  }

  for (const name of PROMPT_ACCEPTED) {
    test(`accepted and sent to the loader as it is: ${show(name)}`, async () => {
      const { context, recorder } = await openPrompt();
      try {
        const { page } = recorder;
        const since = env.stub.mark();
        const response = await submit(page, name);
        assert.equal(response.status(), 303, `the name is accepted (${await postOriginNote(response)})`);
        const loader = await env.stub.waitForLoaderRequest(since, { page });
        await page.waitForFunction(() => window.Widget?.initialized === true, null, { timeout: WAIT_MS });
        const expected = name.replace(/\p{Cc}/gu, '').trim();
        assert.deepEqual(loaderUrlProblems(loader, { ...baseOptions(ROOM), _nickname: expected }), []);
        assert.deepEqual(await page.evaluate(sideEffects), NO_SIDE_EFFECTS);
        assert.deepEqual(await page.evaluate(domCensus), roomBaseline);
        assert.deepEqual(await recorder.problems(), NO_PROBLEMS);
      } finally {
        await context.close();
      }
    });
  }
});
