/**
 * Measures, in a real browser, what flow control is for:
 * - reattach: from page load until a pane showing 9 000 lines of history has all of them;
 * - Ctrl-C under a `yes` flood: from the key press until the next command's output shows.
 *
 *   node ui-tests/bench.mjs     (after npm run build)   RUNS=5 WEBGL=0 to change
 */

import {
  LabServer,
  launchBrowser,
  sleep,
  typeInto,
  waitForPanes,
  waitForText,
  waitForWorkspaceSaved
} from './harness.mjs';

const runs = Number(process.env.RUNS || 3);
const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const server = new LabServer();
let browser;
try {
  await server.start();
  const { id: spaceId } = await server.json('POST', '/api/spaces', { path: '' });
  const pane = await server.json('POST', `/api/spaces/${spaceId}/panes`, { kind: 'shell' });
  await server.json('POST', `/api/spaces/${spaceId}/panes/${pane.id}/input`, {
    text: 'for i in $(seq 1 9000); do echo "history-line-$i ......................................................"; done\r'
  });
  await sleep(3000);
  browser = await launchBrowser({ webgl: process.env.WEBGL !== '0' });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${server.url}/lab?token=${server.token}`);
  await page.waitForSelector('.jp-LabShell', { timeout: 60000 });
  await page.evaluate(id => window.jupyterapp.commands.execute('jupyter-spaces:open', { spaceId: id }), spaceId);
  await waitForPanes(page, 1);
  await waitForWorkspaceSaved(server, 1);
  const reattach = [];
  for (let i = 0; i < runs; i++) {
    const start = Date.now();
    await page.reload();
    await page.waitForSelector('.jp-LabShell', { timeout: 60000 });
    await waitForPanes(page, 1);
    await page.waitForFunction(
      id => {
        for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
          const p = typeof w.content?.pane === 'function' ? w.content.pane(id) : undefined;
          if (p && p.screenText().includes('history-line-1 .') && p.screenText().includes('history-line-9000 ')) {
            return true;
          }
        }
        return false;
      },
      pane.id,
      { timeout: 60000, polling: 20 }
    );
    reattach.push(Date.now() - start);
  }
  const ctrlc = [];
  for (let i = 0; i < runs; i++) {
    await typeInto(page, pane.id, 'yes\r');
    await sleep(1500);
    const start = Date.now();
    await page.keyboard.press('Control+C');
    await page.keyboard.type(`echo done-$((1000+${i}))\r`);
    await waitForText(page, pane.id, `done-${1000 + i}`, 20000);
    ctrlc.push(Date.now() - start);
    await sleep(500);
  }
  const renderer = await page.$eval('.jp-Spaces-pane', e => e.dataset.renderer);
  console.log(`renderer ${renderer}`);
  console.log(`page reload to 9 000 history lines shown: ${reattach.join(', ')} ms (median ${median(reattach)})`);
  console.log(`Ctrl-C to next output under a yes flood: ${ctrlc.join(', ')} ms (median ${median(ctrlc)})`);
} finally {
  await browser?.close();
  await server.dispose();
}
