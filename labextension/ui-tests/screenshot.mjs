/**
 * Throwaway visual check: start JupyterLab with the extension, create a space from the file
 * browser's folder, split it into two panes, run a command in each, and take screenshots of
 * the sidebar and the space (light, then dark theme) into ui-tests/results/.
 *
 *   node ui-tests/screenshot.mjs        (after npm run build; needs /usr/bin/chromium)
 */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { LabServer, launchBrowser, sleep, typeInto, waitForPanes, waitForText } from './harness.mjs';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
fs.mkdirSync(out, { recursive: true });

const server = new LabServer();
let browser;
try {
  fs.mkdirSync(path.join(server.root, 'demo'));
  fs.writeFileSync(path.join(server.root, 'demo', 'README.md'), '# demo\n');
  await server.start();
  browser = await launchBrowser({ webgl: process.env.WEBGL !== '0' });
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  page.on('console', m => {
    if (m.type() === 'error' || m.text().includes('jupyter-spaces')) {
      console.log(`[browser ${m.type()}] ${m.text()}`);
    }
  });
  await page.goto(`${server.url}/lab/tree/demo?token=${server.token}`);
  await page.waitForSelector('.jp-LabShell', { timeout: 60000 });
  // The file browser follows /lab/tree/demo once it has loaded; the new space is for its folder.
  await page.waitForFunction(() => document.querySelector('.jp-BreadCrumbs')?.textContent?.includes('demo'));
  await page.click('.lm-TabBar-tab[data-id="jp-Spaces-sidebar"]');
  await page.waitForSelector('.jp-Spaces-sidebar [data-action="create-space"]');
  await page.click('.jp-Spaces-sidebar [data-action="create-space"]');
  // + asks for the folder (the file browser's by default) and the name.
  await page.waitForSelector('.jp-Dialog .jp-Spaces-newSpaceFolder');
  await page.screenshot({ path: path.join(out, 'new-space-dialog.png') });
  await page.click('.jp-Dialog .jp-mod-accept');
  let [a] = await waitForPanes(page, 1);
  await page.click(`.jp-Spaces-pane[data-pane-id="${a}"] [data-action="split-right"]`);
  const ids = await waitForPanes(page, 2);
  const b = ids.find(id => id !== a);
  await typeInto(page, a, 'ls -la; echo left-$((40+2))\r');
  await waitForText(page, a, 'left-42');
  await typeInto(page, b, 'printf "\\033[32mgreen\\033[0m \\033[1;34mbold blue\\033[0m\\n"; echo right-$((50+5))\r');
  await waitForText(page, b, 'right-55');
  await sleep(500);
  console.log('renderer:', await page.$eval('.jp-Spaces-pane', e => e.dataset.renderer));
  await page.screenshot({ path: path.join(out, 'space-light.png') });
  await page.locator('.jp-Spaces-sidebar').screenshot({ path: path.join(out, 'sidebar-light.png') });

  await page.evaluate(() => window.jupyterapp.commands.execute('apputils:change-theme', { theme: 'JupyterLab Dark' }));
  await page.waitForFunction(() => document.body.dataset.jpThemeLight === 'false', null, { timeout: 20000 });
  await sleep(1000);
  await page.screenshot({ path: path.join(out, 'space-dark.png') });
  await page.locator('.jp-Spaces-sidebar').screenshot({ path: path.join(out, 'sidebar-dark.png') });
  console.log('screenshots in', out);
} catch (error) {
  const page = browser?.contexts()[0]?.pages()[0];
  if (page) {
    await page.screenshot({ path: path.join(out, 'failure.png') });
    console.log(await page.evaluate(() => Array.from(document.querySelectorAll('.jp-Spaces-pane, .jp-Spaces-view, .jp-Spaces-banner'), e => e.outerHTML.slice(0, 600)).join('\n---\n')));
  }
  throw error;
} finally {
  await browser?.close();
  await server.dispose({ keep: process.env.KEEP === '1' });
}
