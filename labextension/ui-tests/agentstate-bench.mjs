/**
 * Benchmark (issue 13): from an agent's signal to the notification in the browser.
 *
 * A real JupyterLab and jupyter-server with jupyter-spaces and tmux, a real headless Chromium.
 * An agent pane runs in a space in a background tab. For each of N changes, the state is
 * written the way the agent's hooks write it (the pane's tmux option, then `wait-for -S`) and
 * the time until JupyterLab shows the notification (needs_input) or takes it away (working)
 * is measured. Prints p50/p95.
 *
 *   cd labextension && npm run build && cd ui-tests && node agentstate-bench.mjs [N]
 */

import fs from 'node:fs';
import path from 'node:path';

import { LabServer, launchBrowser, sleep, waitForText } from './harness.mjs';

const N = Number(process.argv[2] ?? 50);
const toast = '.Toastify__toast:has-text("Reviewer")';

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const server = new LabServer({
  env: dir => ({ PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, CLAUDE_CONFIG_DIR: path.join(dir, 'claude') })
});
let browser;
try {
  const bin = path.join(server.dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'claude'), '#!/bin/sh\necho "FAKE-CLAUDE"\nwhile :; do sleep 3600; done\n', {
    mode: 0o755
  });
  fs.mkdirSync(path.join(server.dir, 'claude'), { recursive: true });
  fs.mkdirSync(path.join(server.root, 'front'));
  fs.mkdirSync(path.join(server.root, 'back'));
  await server.start();
  const front = await server.json('POST', '/api/spaces', { path: 'front', name: 'front' });
  const back = await server.json('POST', '/api/spaces', { path: 'back', name: 'back' });
  await server.json('POST', `/api/spaces/${front.id}/panes`, { kind: 'shell' });
  const pane = await server.json('POST', `/api/spaces/${back.id}/panes`, { kind: 'agent', agent: 'claude', title: 'Reviewer' });

  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${server.url}/lab?token=${server.token}`);
  await page.waitForSelector('.jp-LabShell', { timeout: 60000 });
  await page.evaluate(id => window.jupyterapp.commands.execute('jupyter-spaces:open', { spaceId: id }), back.id);
  await waitForText(page, pane.id, 'FAKE-CLAUDE');
  await page.evaluate(id => window.jupyterapp.commands.execute('jupyter-spaces:open', { spaceId: id }), front.id);
  await page.waitForSelector(`.jp-Spaces-view[data-space-id="${front.id}"] .jp-Spaces-pane[data-connection="open"]`);
  server.setAgentState(back.id, pane.id, 'working');
  await sleep(1000);

  const shown = [];
  const cleared = [];
  for (let i = 0; i < N; i++) {
    let t0 = performance.now();
    server.setAgentState(back.id, pane.id, 'needs_input', { reason: 'permission' });
    await page.waitForSelector(toast, { timeout: 15000 });
    shown.push(performance.now() - t0);
    t0 = performance.now();
    server.setAgentState(back.id, pane.id, 'working');
    await page.waitForSelector(toast, { state: 'detached', timeout: 15000 });
    cleared.push(performance.now() - t0);
    await sleep(50);
  }
  const row = (name, ms) =>
    `${name.padEnd(40)} ${percentile(ms, 50).toFixed(0).padStart(6)} ms ${percentile(ms, 95).toFixed(0).padStart(6)} ms`;
  console.log(`${'measure'.padEnd(40)} ${'p50'.padStart(9)} ${'p95'.padStart(9)}`);
  console.log(row('signal -> notification shown (hooks)', shown));
  console.log(row('signal -> notification taken away', cleared));
  console.log(`(${N} changes each; the time includes the tmux command that writes the state)`);
} finally {
  await browser?.close();
  await server.dispose();
}
