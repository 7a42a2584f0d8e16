// Screenshots of the room page, the name prompt and the 404 page, for a person to look
// at: written to target/browser-artifacts/ (repo-relative).

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  REPO_ROOT,
  ROOM,
  UNKNOWN,
  WAIT_MS,
  artifactPath,
  instrumentedPage,
  openRoom,
  startAll,
  startRoomgate,
} from './fixtures.mjs';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
};

let env;
let promptApp;
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
});

/** Saves a full-page screenshot as `name` and checks that it is a real PNG. */
async function shoot(page, name) {
  const file = artifactPath(name);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  const bytes = readFileSync(file);
  assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE), `${name} is a PNG`);
  assert.ok(statSync(file).size > 2_000, `${name} is not empty`);
  console.log(`screenshot: ${path.relative(REPO_ROOT, file)}`);
}

for (const [device, viewport] of Object.entries(VIEWPORTS)) {
  test(`room page (${device})`, async () => {
    const context = await env.browser.newContext({ viewport });
    try {
      const { page } = await instrumentedPage(context);
      const { response } = await openRoom(page, env.stub,
        env.app.url(`/room/${ROOM}?_nickname=Ada%20Lovelace`));
      assert.equal(response.status(), 200);
      await page.evaluate(() => document.fonts.ready);
      await shoot(page, `room-${device}.png`);
    } finally {
      await context.close();
    }
  });

  test(`name prompt (${device})`, async () => {
    const context = await env.browser.newContext({ viewport });
    try {
      const { page } = await instrumentedPage(context);
      const response = await page.goto(promptApp.url(`/room/${ROOM}`), { waitUntil: 'load', timeout: WAIT_MS });
      assert.equal(response.status(), 200);
      await page.locator('#nickname').waitFor({ timeout: WAIT_MS });
      await page.evaluate(() => document.fonts.ready);
      await shoot(page, `name-prompt-${device}.png`);
    } finally {
      await context.close();
    }
  });

  test(`404 page (${device})`, async () => {
    const context = await env.browser.newContext({ viewport });
    try {
      const { page } = await instrumentedPage(context);
      const response = await page.goto(env.app.url(`/room/${UNKNOWN}`), { waitUntil: 'load', timeout: WAIT_MS });
      assert.equal(response.status(), 404);
      assert.ok(await page.locator('h1').isVisible(), 'the 404 page has a visible heading');
      await page.evaluate(() => document.fonts.ready);
      await shoot(page, `not-found-${device}.png`);
    } finally {
      await context.close();
    }
  });
}
