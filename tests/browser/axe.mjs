// axe-core as the browser suite runs it: the WCAG 2.1 A and AA rules, run in the page as
// served. Its source is handed to `page.evaluate`, which runs through the DevTools
// protocol and is not subject to the page's CSP, so no `bypassCSP` is needed.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axe = require('axe-core');

/** The rules run: those tagged with one of these. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Runs axe-core in `page` with the WCAG 2.1 A/AA rules; returns plain violations and the undecided rules. */
export async function runAxe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(axe.source);
  }
  return page.evaluate(async (tags) => {
    const results = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations', 'incomplete'],
    });
    const plain = (list) => list.map((r) => ({
      id: r.id,
      impact: r.impact,
      help: r.help,
      helpUrl: r.helpUrl,
      nodes: r.nodes.map((n) => ({
        target: n.target.map(String),
        html: n.html,
        summary: n.failureSummary ?? '',
      })),
    }));
    return {
      version: window.axe.version,
      passed: results.passes.length,
      inapplicable: results.inapplicable.length,
      violations: plain(results.violations),
      incomplete: plain(results.incomplete),
    };
  }, WCAG_TAGS);
}

/** A violation list as text a person can act on. */
export function describeViolations(violations) {
  return violations.map((v) => [
    `- ${v.id} (${v.impact}): ${v.help}`,
    `  ${v.helpUrl}`,
    ...v.nodes.map((n) => [
      `  target: ${n.target.join(' ')}`,
      `    ${n.html.length > 200 ? `${n.html.slice(0, 200)}…` : n.html}`,
      ...n.summary.split('\n').map((line) => `    ${line}`),
    ].join('\n')),
  ].join('\n')).join('\n');
}
