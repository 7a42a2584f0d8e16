// Runs the unmodified static/js/room.js once per embed data block and prints the loader
// URL it asked for, so that tests/api/properties.rs checks the real script rather than a
// copy of it. Plain node (20 or newer), no packages.
//
//   node tests/api/room_js_loader.mjs blocks.json
//
// blocks.json: a JSON array of strings, each a data block exactly as
// EmbedBlock::to_script_json() writes it into the page (escapes included), so the script
// parses the very text a browser would hand it.
// Prints a JSON array: per block, the `src` of the script element room.js appended, or
// null if it appended none.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  console.error(`room_js_loader.mjs needs Node.js 20 or newer, found ${process.version}`);
  process.exit(2);
}

const scriptUrl = new URL('../../static/js/room.js', import.meta.url);
const script = new vm.Script(readFileSync(scriptUrl, 'utf8'), { filename: scriptUrl.pathname });
const blocks = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const urls = blocks.map((text) => {
  const appended = [];
  // Only what room.js touches on a room page with no countdown and no local times;
  // a new context per block so that nothing (window.Widget) leaks between cases.
  const context = {
    document: {
      readyState: 'complete',
      documentElement: { lang: 'en' },
      head: { appendChild: (el) => appended.push(el) },
      getElementById: (id) => (id === 'roomgate-embed' ? { textContent: text } : null),
      createElement: (tag) => ({ tagName: tag.toUpperCase() }),
      querySelectorAll: () => [],
    },
    setInterval: () => 0,
    setTimeout: () => 0,
  };
  context.window = context;
  script.runInContext(vm.createContext(context));
  return appended.length > 0 ? appended[0].src : null;
});

process.stdout.write(JSON.stringify(urls));
