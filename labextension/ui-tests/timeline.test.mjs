/**
 * Browser test of the snapshot timeline: a real JupyterLab and jupyter-server with
 * jupyter-spaces and tmux (the Python of this working tree: the harness puts it first on
 * PYTHONPATH), a real headless Chromium. Snapshots are taken through the API; the timeline
 * shows them by day with their reasons, pins one, shows a prune's dry run before it deletes,
 * sets the space's schedule and restores a snapshot (which adds a "Before restore" one).
 *
 *   cd labextension && npm run build && cd ui-tests && node --test timeline.test.mjs
 */

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { LabServer, launchBrowser, sleep, waitFor } from './harness.mjs';

const results = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
fs.mkdirSync(results, { recursive: true });

let server;
let browser;
let page;
let space;
let shellPane;
/** The snapshots taken through the API, oldest first. */
const taken = [];

const timeline = () => `.jp-Spaces-timeline[data-space-id="${space.id}"]`;
const items = () => `${timeline()} .jp-Spaces-timelineItem`;
const item = id => `${items()}[data-snapshot-id="${id}"]`;

async function listed() {
  return (await server.json('GET', `/api/spaces/${space.id}/snapshots`)).snapshots;
}

async function setTheme(theme) {
  await page.evaluate(t => window.jupyterapp.commands.execute('apputils:change-theme', { theme: t }), theme);
  await page.waitForFunction(
    light => document.body.dataset.jpThemeLight === light,
    theme.endsWith('Light') ? 'true' : 'false'
  );
  await sleep(800);
}

const itemIds = () => page.$$eval(items(), els => els.map(e => e.dataset.snapshotId));

before(async () => {
  server = new LabServer();
  fs.mkdirSync(path.join(server.root, 'proj'));
  await server.start();
  space = await server.json('POST', '/api/spaces', { path: 'proj' });
  const shell = await server.json('POST', `/api/spaces/${space.id}/panes`, { kind: 'shell', title: 'work' });
  shellPane = shell.id;
  // Something on its screen for the snapshots to keep.
  await sleep(500);
  await server.json('POST', `/api/spaces/${space.id}/panes/${shell.id}/input`, { text: 'echo timeline-$((6*7))\r' });
  await waitFor(async () => {
    const r = await server.json('GET', `/api/spaces/${space.id}/panes/${shell.id}/screen`);
    return JSON.stringify(r).includes('timeline-42');
  }, 'the echo on the screen');
  for (let i = 0; i < 3; i++) {
    if (i > 0) {
      await sleep(1100); // ids and times are by the second
    }
    taken.push(await server.json('POST', `/api/spaces/${space.id}/snapshots`, {}));
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', error => console.error('[page error]', error));
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('the snapshot timeline in JupyterLab', () => {
  it('opens from the space view toolbar and shows the snapshots by day with their reasons', async () => {
    await page.goto(`${server.url}/lab?token=${server.token}`);
    await page.waitForSelector('.jp-LabShell', { timeout: 60000 });
    await page.evaluate(id => window.jupyterapp.commands.execute('jupyter-spaces:open', { spaceId: id }), space.id);
    const button = `#jp-Spaces-space-${space.id} .jp-Toolbar-item[data-jp-item-name="snapshot-timeline"] button`;
    await page.waitForSelector(button);
    await page.click(button);
    await page.waitForFunction(sel => document.querySelectorAll(sel).length === 3, items());

    assert.deepEqual(await itemIds(), taken.map(s => s.id).reverse());
    const reasons = await page.$$eval(`${items()} .jp-Spaces-timelineReason`, els => els.map(e => e.textContent));
    assert.deepEqual(reasons, ['Manual', 'Manual', 'Manual']);
    assert.deepEqual(
      await page.$$eval(`${timeline()} .jp-Spaces-timelineDayLabel`, els => els.map(e => e.textContent)),
      ['Today']
    );
    assert.match(await page.textContent(`${timeline()} .jp-Spaces-timelineDisk`), /^\d+(\.\d)? (B|KiB|MiB) on disk for 3 snapshots/);
    for (const size of await page.$$eval(`${items()} .jp-Spaces-timelineSize`, els => els.map(e => e.textContent))) {
      assert.match(size, /^\d+(\.\d)? (B|KiB|MiB)$/);
    }
    assert.match(await page.textContent(`${items()} .jp-Spaces-timelineTime`), /^\d\d:\d\d(:\d\d)?$/);

    // The newest is selected and previewed: its layout and panes.
    assert.equal(await page.getAttribute(item(taken[2].id), 'aria-selected'), 'true');
    await page.waitForSelector(`${timeline()} .jp-Spaces-timelineLayout`);
    assert.equal(await page.textContent(`${timeline()} .jp-Spaces-timelineLayoutSummary`), '1 pane: 1 shell');
    assert.match(await page.textContent(`${timeline()} .jp-Spaces-timelineLayout`), /work \(shell\)/);
    assert.match(await page.textContent(`${timeline()} .jp-Spaces-timelinePanes li`), /^work \(shell\): /);
    // Its screen, as text, read when opened.
    await page.click(`${timeline()} .jp-Spaces-timelinePanes li[data-pane-id="${shellPane}"] summary`);
    await page.waitForSelector(`${timeline()} .jp-Spaces-timelineScreen[data-loaded="true"]`);
    assert.match(await page.textContent(`${timeline()} .jp-Spaces-timelineScreenText`), /timeline-42/);

    // And from the palette's command, for a space given by id: the same tab.
    await page.evaluate(id => window.jupyterapp.commands.execute('jupyter-spaces:open-snapshot-timeline', { spaceId: id }), space.id);
    assert.equal(await page.$$eval(timeline(), els => els.length), 1);
    const label = await page.evaluate(() => window.jupyterapp.commands.label('jupyter-spaces:open-snapshot-timeline'));
    assert.equal(label, 'Open Snapshot Timeline');
  });

  it('pins a snapshot', async () => {
    const middle = taken[1].id;
    await page.click(item(middle));
    await page.waitForSelector(`${timeline()} .jp-Spaces-timelinePreview[data-snapshot-id="${middle}"]`);
    await page.click(`${timeline()} [data-action="pin"]`);
    await page.waitForSelector(`${item(middle)}[data-pinned="true"]`);
    assert.equal(await page.textContent(`${timeline()} [data-action="pin"]`), 'Unpin');
    assert.equal(await page.textContent(`${item(middle)} .jp-Spaces-timelinePin`), 'pinned');
    const pinned = (await listed()).find(s => s.id === middle);
    assert.equal(pinned.pinned, true);
  });

  it('shows a dry run of the prune first: the unpinned ones the rules do not keep', async () => {
    await page.click(`${timeline()} [data-action="prune"]`);
    await page.waitForSelector(`${timeline()} .jp-Spaces-timelinePrune input[data-rule="last"]`);
    await page.fill(`${timeline()} input[data-rule="last"]`, '1');
    for (const rule of ['hourly', 'daily', 'weekly']) {
      await page.fill(`${timeline()} input[data-rule="${rule}"]`, '0');
    }
    await page.click(`${timeline()} [data-action="prune-dry-run"]`);
    await page.waitForSelector(`${timeline()} .jp-Spaces-timelinePruneDeleted li`);
    const doomed = await page.$$eval(`${timeline()} .jp-Spaces-timelinePruneDeleted li`, els => els.map(e => e.dataset.snapshotId));
    // Unpinned: the oldest and the newest; the newest stays as the newest (keep last 1).
    assert.deepEqual(doomed, [taken[0].id]);
    assert.equal(await page.getAttribute(item(taken[0].id), 'data-prune'), 'delete');
    assert.match(await page.textContent(`${timeline()} .jp-Spaces-timelinePruneHeadline`), /^Would delete 1 snapshot and free /);
    const kept = await page.$$eval(`${timeline()} .jp-Spaces-timelinePruneKept li`, els =>
      Object.fromEntries(els.map(e => [e.dataset.snapshotId, e.textContent]))
    );
    assert.match(kept[taken[1].id], /pinned/);
    assert.match(kept[taken[2].id], /among the newest/);
    // A dry run deletes nothing.
    assert.equal((await listed()).length, 3);

    for (const theme of ['JupyterLab Light', 'JupyterLab Dark']) {
      await setTheme(theme);
      await page.screenshot({ path: path.join(results, `timeline-${theme.endsWith('Light') ? 'light' : 'dark'}.png`) });
    }
    await setTheme('JupyterLab Light');

    await page.click(`${timeline()} [data-action="prune-confirm"]`);
    await page.waitForFunction(sel => document.querySelectorAll(sel).length === 2, items());
    assert.deepEqual((await listed()).map(s => s.id).sort(), [taken[1].id, taken[2].id].sort());
    assert.equal(await page.isVisible(`${timeline()} .jp-Spaces-timelinePrune`), false);
  });

  it("sets the space's schedule", async () => {
    const select = `${timeline()} select[data-field="schedule"]`;
    await page.waitForSelector(`${select}:not([disabled])`);
    await page.selectOption(select, 'custom');
    await page.fill(`${timeline()} input[data-field="schedule-custom"]`, '30m');
    await page.press(`${timeline()} input[data-field="schedule-custom"]`, 'Enter');
    await waitFor(async () => (await server.json('GET', `/api/spaces/${space.id}/snapshots/settings`)).schedule === '30m', 'the schedule');
    await page.selectOption(select, 'off');
    await waitFor(async () => (await server.json('GET', `/api/spaces/${space.id}/snapshots/settings`)).schedule === 'off', 'the schedule off');
    await page.selectOption(select, 'default');
    await waitFor(async () => (await server.json('GET', `/api/spaces/${space.id}/snapshots/settings`)).schedule === null, 'the default schedule');
  });

  it('restores a snapshot, asking first because a pane runs, and shows the Before restore one', async () => {
    // A second pane after the snapshots: the restore takes the space back to one.
    await server.json('POST', `/api/spaces/${space.id}/panes`, { kind: 'shell', title: 'later' });
    await waitFor(async () => (await server.json('GET', `/api/spaces/${space.id}`)).panes.length === 2, 'the second pane');
    await page.click(item(taken[1].id));
    await page.waitForSelector(`${timeline()} .jp-Spaces-timelinePreview[data-snapshot-id="${taken[1].id}"]`);
    await page.click(`${timeline()} [data-action="restore"]`);
    await page.waitForSelector('.jp-Dialog .jp-mod-warn');
    assert.match(await page.textContent('.jp-Dialog .jp-Dialog-body'), /^Restoring stops 2 running panes in /);
    await page.click('.jp-Dialog .jp-mod-warn');
    await page.waitForSelector('.jp-Dialog', { state: 'detached' });

    await waitFor(async () => (await server.json('GET', `/api/spaces/${space.id}`)).panes.length === 1, 'the restored space');
    await page.waitForSelector(`${items()}[data-reason="before_restore"]`);
    const first = await page.$eval(items(), e => ({ reason: e.dataset.reason, text: e.querySelector('.jp-Spaces-timelineReason').textContent }));
    assert.deepEqual(first, { reason: 'before_restore', text: 'Before restore' });
    assert.equal((await listed()).length, 3);
  });
});
