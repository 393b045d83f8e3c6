/**
 * Browser tests of trust, snapshots and autorestart: a real JupyterLab and jupyter-server with
 * jupyter-spaces and tmux, a real headless Chromium.
 *
 * An untrusted space is made the way one arrives with `git clone`: a space.json the server did
 * not write (a copy of one it did, with another id) in a folder, registered with POST
 * /api/spaces. It must show the trust banner and run nothing until trusted from the UI.
 *
 *   cd labextension && npm run build && cd ui-tests && node --test snapshots.test.mjs
 */

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { LabServer, launchBrowser, sleep, typeInto, waitFor, waitForPanes, waitForText } from './harness.mjs';

const results = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
fs.mkdirSync(results, { recursive: true });

const BANNER =
  "This space's file was not written by you (it came with the folder or was edited). Nothing in it runs until you trust it.";

let server;
let browser;
let page;
/** The untrusted space, as the server first described it. */
let cloned;
let commandPane;
let shellPane;

async function openLab() {
  await page.goto(`${server.url}/lab?token=${server.token}`);
  await page.waitForSelector('.jp-LabShell', { timeout: 60000 });
}

async function getSpace() {
  return server.json('GET', `/api/spaces/${cloned.id}`);
}

async function setTheme(theme) {
  await page.evaluate(t => window.jupyterapp.commands.execute('apputils:change-theme', { theme: t }), theme);
  await page.waitForFunction(
    light => document.body.dataset.jpThemeLight === light,
    theme.endsWith('Light') ? 'true' : 'false'
  );
  await sleep(800);
}

/** Screenshots without the toasts of what was just done over them. */
async function toastsGone() {
  await page.waitForSelector('.Toastify__toast', { state: 'detached', timeout: 10000 }).catch(() => undefined);
}

async function dialogGone() {
  await page.waitForSelector('.jp-Dialog', { state: 'detached' });
}

const sidebarSpace = () => `.jp-Spaces-sidebar .jp-Spaces-space[data-space-id="${cloned.id}"]`;
const panel = () => `.jp-Spaces-snapshots[data-space-id="${cloned.id}"]`;
const rows = () => `${panel()} .jp-Spaces-snapshot`;

before(async () => {
  server = new LabServer();
  fs.mkdirSync(path.join(server.root, 'template'));
  fs.mkdirSync(path.join(server.root, 'cloned'));
  await server.start();

  // A space the server writes (so its file has the real shape), with a command and a shell...
  const template = await server.json('POST', '/api/spaces', { path: 'template' });
  await server.json('POST', `/api/spaces/${template.id}/panes`, {
    kind: 'command',
    argv: ['sh', '-c', 'echo trusted-cmd-$((6*7)); exec sleep 600'],
    title: 'web'
  });
  await server.json('POST', `/api/spaces/${template.id}/panes`, { kind: 'shell', direction: 'row' });
  const file = path.join(server.root, 'template', '.jupyter-spaces', 'space.json');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  await server.json('DELETE', `/api/spaces/${template.id}`);
  // ...copied into another folder with another id: a file this server never signed.
  doc.id = 'cl0ned' + Math.random().toString(16).slice(2, 10);
  doc.name = 'cloned';
  fs.mkdirSync(path.join(server.root, 'cloned', '.jupyter-spaces'));
  fs.writeFileSync(path.join(server.root, 'cloned', '.jupyter-spaces', 'space.json'), JSON.stringify(doc, null, 2));
  cloned = await server.json('POST', '/api/spaces', { path: 'cloned' });
  assert.equal(cloned.id, doc.id);
  assert.equal(cloned.trusted, false);
  assert.equal(cloned.panes.length, 2);
  assert.ok(cloned.panes.every(p => p.state !== 'running'), JSON.stringify(cloned.panes));
  commandPane = cloned.panes.find(p => p.kind === 'command').id;
  shellPane = cloned.panes.find(p => p.kind === 'shell').id;

  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', error => console.error('[page error]', error));
});

after(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('trust, snapshots and autorestart in JupyterLab', () => {
  it('shows an untrusted space with the banner, its pane actions disabled, nothing running', async () => {
    await openLab();
    await page.click('.lm-TabBar-tab[data-id="jp-Spaces-sidebar"]');
    await page.waitForSelector(`${sidebarSpace()}[data-trusted="false"] .jp-Spaces-trustBanner`);
    assert.equal(await page.textContent(`${sidebarSpace()} .jp-Spaces-trustBannerText`), BANNER);
    const shell = await page.$(`${sidebarSpace()} [data-action="new-shell"]`);
    assert.equal(await shell.getAttribute('aria-disabled'), 'true');
    assert.match(await shell.getAttribute('title'), /Nothing in it runs until you trust it/);

    await page.click(`${sidebarSpace()} .jp-Spaces-spaceName`);
    await page.waitForSelector(`.jp-Spaces-view[data-space-id="${cloned.id}"][data-trusted="false"]`);
    await page.waitForSelector('.jp-Spaces-view > .jp-Spaces-banner [data-action="trust-space"]');
    assert.equal(await page.textContent('.jp-Spaces-view > .jp-Spaces-banner .jp-Spaces-bannerText'), BANNER);
    // The layout is shown; the panes do not run and do not connect.
    await page.waitForFunction(() => document.querySelectorAll('.jp-Spaces-view .jp-Spaces-pane').length === 2);
    const states = await page.$$eval('.jp-Spaces-view .jp-Spaces-pane', els => els.map(e => e.dataset.state));
    assert.ok(states.every(s => s !== 'running'), String(states));
    const split = await page.$(`.jp-Spaces-pane[data-pane-id="${shellPane}"] [data-action="split-right"]`);
    assert.equal(await split.getAttribute('aria-disabled'), 'true');
    assert.match(await split.getAttribute('title'), /not written by you/);
    // A click on a disabled action changes nothing.
    await split.click({ force: true });
    await sleep(500);
    assert.equal((await getSpace()).panes.length, 2);

    for (const theme of ['JupyterLab Light', 'JupyterLab Dark']) {
      await setTheme(theme);
      const name = theme.endsWith('Light') ? 'light' : 'dark';
      await page.screenshot({ path: path.join(results, `untrusted-${name}.png`) });
      await page.locator('.jp-Spaces-sidebar').screenshot({ path: path.join(results, `untrusted-sidebar-${name}.png`) });
    }
    await setTheme('JupyterLab Light');
  });

  it('asks with the commands the panes would run, then trusts and starts them', async () => {
    await page.click('.jp-Spaces-view > .jp-Spaces-banner [data-action="trust-space"]');
    await page.waitForSelector('.jp-Dialog .jp-Spaces-trustBody');
    const commands = await page.$$eval('.jp-Dialog .jp-Spaces-trustCommand', els => els.map(e => e.textContent));
    assert.ok(commands.includes("sh -c 'echo trusted-cmd-$((6*7)); exec sleep 600'"), JSON.stringify(commands));
    assert.equal(commands.length, 2);
    await page.locator('.jp-Dialog .jp-Dialog-content').screenshot({ path: path.join(results, 'trust-dialog-light.png') });
    await page.click('.jp-Dialog .jp-mod-warn');
    await dialogGone();

    await waitForPanes(page, 2, 30000);
    await page.waitForSelector(`.jp-Spaces-view[data-trusted="true"]`);
    assert.equal(await page.isVisible('.jp-Spaces-view > .jp-Spaces-banner'), false);
    await page.waitForSelector(`${sidebarSpace()}[data-trusted="true"]`);
    assert.equal(await page.$(`${sidebarSpace()} .jp-Spaces-trustBanner`), null);
    const s = await getSpace();
    assert.equal(s.trusted, true);
    assert.ok(s.panes.every(p => p.state === 'running'), JSON.stringify(s.panes.map(p => p.state)));
    // A command restored from the file waits for Enter, then runs.
    await typeInto(page, commandPane, '\r');
    await waitForText(page, commandPane, 'trusted-cmd-42');
    const split = await page.$(`.jp-Spaces-pane[data-pane-id="${shellPane}"] [data-action="split-right"]`);
    assert.equal(await split.getAttribute('aria-disabled'), null);
  });

  it('turns autorestart of a command pane on and off from its header', async () => {
    const toggle = `.jp-Spaces-pane[data-pane-id="${commandPane}"] [data-action="autorestart"]`;
    assert.equal(await page.getAttribute(toggle, 'aria-pressed'), 'false');
    assert.equal(await page.isVisible(`.jp-Spaces-pane[data-pane-id="${shellPane}"] [data-action="autorestart"]`), false);
    await page.click(toggle);
    await page.waitForSelector(`${toggle}[aria-pressed="true"]`);
    const on = (await getSpace()).panes.find(p => p.id === commandPane);
    assert.equal(on.autorestart, true);
    await page.click(toggle);
    await page.waitForSelector(`${toggle}[aria-pressed="false"]`);
    const off = (await getSpace()).panes.find(p => p.id === commandPane);
    assert.ok(!off.autorestart);
  });

  it('takes snapshots from the sidebar and the panel, and lists them', async () => {
    // Trusting the space took a "before trust" snapshot: this test starts from none.
    for (const snap of (await server.json('GET', `/api/spaces/${cloned.id}/snapshots`)).snapshots) {
      await server.json('DELETE', `/api/spaces/${cloned.id}/snapshots/${snap.id}`);
    }
    await page.click(`${sidebarSpace()} [data-action="take-snapshot"]`);
    await page.waitForSelector('.jp-Dialog input');
    await page.fill('.jp-Dialog input', 'before the change');
    await page.click('.jp-Dialog .jp-mod-accept');
    await dialogGone();
    await waitFor(async () => (await server.json('GET', `/api/spaces/${cloned.id}/snapshots`)).snapshots.length === 1, 'the first snapshot');

    await page.click(`${sidebarSpace()} [data-action="snapshots"]`);
    await page.waitForSelector(`${rows()}`);
    assert.equal(await page.textContent(`${rows()} .jp-Spaces-snapshotName`), 'before the change');
    assert.equal(await page.textContent(`${rows()} .jp-Spaces-snapshotPanes`), '2 panes');
    assert.match(await page.textContent(`${rows()} .jp-Spaces-snapshotSize`), /^\d+(\.\d)? (B|KiB|MiB)$/);
    assert.match(await page.textContent(`${rows()} time`), /just now/);
    assert.match(await page.getAttribute(`${rows()} time`, 'title'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);

    // Unnamed, from the panel's own button: the list follows the server's announcement.
    await sleep(1100); // ids are by the second
    await page.click(`${panel()} [data-action="take-snapshot"]`);
    await page.waitForSelector('.jp-Dialog input');
    await page.click('.jp-Dialog .jp-mod-accept');
    await dialogGone();
    await page.waitForFunction(sel => document.querySelectorAll(sel).length === 2, rows());
    const names = await page.$$eval(`${rows()} .jp-Spaces-snapshotName`, els => els.map(e => e.textContent));
    assert.deepEqual(names, ['(no name)', 'before the change']);

    await toastsGone();
    for (const theme of ['JupyterLab Light', 'JupyterLab Dark']) {
      await setTheme(theme);
      const name = theme.endsWith('Light') ? 'light' : 'dark';
      await page.screenshot({ path: path.join(results, `snapshots-${name}.png`) });
    }
    await setTheme('JupyterLab Light');
  });

  it('restores a snapshot, asking first because panes run', async () => {
    // A third pane after the snapshot: the restore takes the space back to two.
    const extra = await server.json('POST', `/api/spaces/${cloned.id}/panes`, { kind: 'shell' });
    await waitFor(async () => (await getSpace()).panes.length === 3, 'the third pane');
    const id = await page.$$eval(rows(), els => els[1].dataset.snapshotId);
    await page.click(`${rows()}[data-snapshot-id="${id}"] [data-action="restore-snapshot"]`);
    await page.waitForSelector('.jp-Dialog');
    const question = await page.textContent('.jp-Dialog .jp-Dialog-body');
    assert.equal(question, 'Restoring stops 3 running panes in cloned. Continue?');
    await page.click('.jp-Dialog .jp-mod-warn');
    await dialogGone();

    const s = await waitFor(async () => {
      const space = await getSpace();
      return space.panes.length === 2 && space.panes.every(p => p.state === 'running') ? space : null;
    }, 'the restored space');
    assert.deepEqual(s.panes.map(p => p.id).sort(), [commandPane, shellPane].sort());
    assert.ok(!s.panes.some(p => p.id === extra.id));
    // The view follows: two panes again, connected to the new processes.
    await page.click(`.lm-TabBar-tab[data-id="jp-Spaces-space-${cloned.id}"]`);
    await waitForPanes(page, 2, 30000);
  });

  it('deletes one snapshot and prunes the rest', async () => {
    await page.click(`.lm-TabBar-tab[data-id="jp-Spaces-snapshots-tab-${cloned.id}"]`);
    // The restore took a "before restore" snapshot of its own: three now.
    const before = (await server.json('GET', `/api/spaces/${cloned.id}/snapshots`)).snapshots;
    assert.equal(before.length, 3);
    await page.waitForFunction(sel => document.querySelectorAll(sel).length === 3, rows());
    const id = await page.$$eval(rows(), els => els[0].dataset.snapshotId);
    await page.click(`${rows()}[data-snapshot-id="${id}"] [data-action="delete-snapshot"]`);
    await page.waitForSelector('.jp-Dialog');
    await page.click('.jp-Dialog .jp-mod-warn');
    await dialogGone();
    await page.waitForFunction(sel => document.querySelectorAll(sel).length === 2, rows());
    const left = (await server.json('GET', `/api/spaces/${cloned.id}/snapshots`)).snapshots;
    assert.equal(left.length, 2);
    assert.ok(!left.some(s => s.id === id));

    await page.click(`${panel()} [data-action="prune-snapshots"]`);
    await page.waitForSelector('.jp-Dialog input');
    await page.fill('.jp-Dialog input', '0');
    await page.click('.jp-Dialog .jp-mod-accept');
    await page.waitForSelector('.jp-Dialog .jp-mod-warn');
    await page.click('.jp-Dialog .jp-mod-warn');
    await dialogGone();
    // A named snapshot is never pruned: "before the change" stays, alone.
    await page.waitForFunction(sel => document.querySelectorAll(sel).length === 1, rows());
    const kept = (await server.json('GET', `/api/spaces/${cloned.id}/snapshots`)).snapshots;
    assert.deepEqual(kept.map(s => s.name), ['before the change']);
  });
});
