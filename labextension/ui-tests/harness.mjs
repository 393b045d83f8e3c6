/**
 * A JupyterLab server with jupyter-spaces and the built extension, in a throwaway directory,
 * and a headless Chromium to drive it. Everything it starts it also stops: the server by its
 * pid, the private tmux server through its own socket.
 *
 * Environment: CHROMIUM (default /usr/bin/chromium), PYTHON (default python).
 */

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built extension (npm run build writes it there). */
export const EXTENSION_DIR = path.resolve(here, '..', '..', 'jupyter_spaces', 'labextension');
const REPO_ROOT = path.resolve(here, '..', '..');

export const sleep = ms => new Promise(r => setTimeout(r, ms));

/** Polls `check` until it returns something truthy, and returns that; fails naming `what`. */
export async function waitFor(check, what, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) {
      return last;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Servers not disposed yet, stopped hard if this process ends early (Ctrl-C, a crash). */
const live = new Set();

function killTmux(socketDir) {
  const sock = path.join(socketDir, 'tmux.sock');
  if (fs.existsSync(sock)) {
    try {
      execFileSync('tmux', ['-S', sock, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => {
  for (const server of live) {
    server.proc?.kill('SIGKILL');
    killTmux(server.socketDir);
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => process.exit(130));
}

export class LabServer {
  /**
   * `env`: extra environment for the server (e.g. CLAUDE_CONFIG_DIR, CODEX_HOME, PATH), a
   * function of the server's temporary directory or a plain object.
   */
  constructor({ env = {} } = {}) {
    live.add(this);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jsp-ui-'));
    this.root = path.join(this.dir, 'root');
    this.socketDir = path.join(this.dir, 'sock');
    this.token = 'uitest' + Math.random().toString(16).slice(2);
    this.proc = null;
    this.port = 0;
    for (const d of ['root', 'data', 'config', 'runtime', 'settings', 'workspaces', 'labextensions']) {
      fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    }
    if (!fs.existsSync(path.join(EXTENSION_DIR, 'package.json'))) {
      throw new Error(`no built extension in ${EXTENSION_DIR}: run npm run build first`);
    }
    // No "get notified about Jupyter news?" toast over the panes in screenshots.
    const notification = path.join(this.dir, 'settings', '@jupyterlab', 'apputils-extension');
    fs.mkdirSync(notification, { recursive: true });
    fs.writeFileSync(
      path.join(notification, 'notification.jupyterlab-settings'),
      JSON.stringify({ fetchNews: 'false' })
    );
    // JupyterLab finds prebuilt extensions as <dir>/<package name>/package.json.
    fs.symlinkSync(EXTENSION_DIR, path.join(this.dir, 'labextensions', 'jupyter-spaces'));
    this.log = path.join(this.dir, 'server.log');
    this.env = typeof env === 'function' ? env(this.dir) : env;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start({ timeout = 60000 } = {}) {
    if (this.port === 0) {
      this.port = await freePort();
    }
    const args = [
      '-m', 'jupyterlab',
      '--no-browser',
      '--allow-root',
      '--ServerApp.ip=127.0.0.1',
      `--ServerApp.port=${this.port}`,
      '--ServerApp.port_retries=0',
      `--IdentityProvider.token=${this.token}`,
      `--ServerApp.root_dir=${this.root}`,
      `--LabApp.extra_labextensions_path=${path.join(this.dir, 'labextensions')}`,
      `--LabApp.user_settings_dir=${path.join(this.dir, 'settings')}`,
      `--LabApp.workspaces_dir=${path.join(this.dir, 'workspaces')}`,
      '--LabApp.expose_app_in_browser=True',
      `--SpacesApp.socket_dir=${this.socketDir}`,
      `--SpacesApp.registry_path=${path.join(this.dir, 'data', 'registry.json')}`
    ];
    const out = fs.openSync(this.log, 'a');
    this.proc = spawn(process.env.PYTHON || 'python', args, {
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        JUPYTER_CONFIG_DIR: path.join(this.dir, 'config'),
        JUPYTER_DATA_DIR: path.join(this.dir, 'data'),
        JUPYTER_RUNTIME_DIR: path.join(this.dir, 'runtime'),
        // The package of this working tree, whichever copy an editable install points at.
        PYTHONPATH: [REPO_ROOT, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
        // The agent index reads these folders: empty ones unless a test writes sessions, so
        // the tests never index (or show in screenshots) the machine's real conversations.
        CLAUDE_CONFIG_DIR: path.join(this.dir, 'no-agents', 'claude'),
        CODEX_HOME: path.join(this.dir, 'no-agents', 'codex'),
        GEMINI_CLI_HOME: path.join(this.dir, 'no-agents', 'gemini'),
        ...this.env
      }
    });
    fs.closeSync(out);
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) {
        throw new Error(`jupyter lab exited (${this.proc.exitCode}); see ${this.log}`);
      }
      try {
        const r = await this.api('GET', '/api/spaces');
        if (r.ok) {
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`jupyter lab did not start in ${timeout} ms; see ${this.log}`);
  }

  /** Stop the server process (SIGKILL with hard=true: the panes must survive either way). */
  async stop({ hard = false } = {}) {
    const proc = this.proc;
    if (proc === null || proc.exitCode !== null) {
      this.proc = null;
      return;
    }
    const exited = new Promise(r => proc.once('exit', r));
    proc.kill(hard ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
    this.proc = null;
  }

  /** Stop everything this server started, including the private tmux server. */
  async dispose({ keep = false } = {}) {
    await this.stop();
    killTmux(this.socketDir);
    live.delete(this);
    if (!keep) {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** The private tmux server's socket (SpacesApp.socket_dir/tmux.sock). */
  get tmuxSocket() {
    return path.join(this.socketDir, 'tmux.sock');
  }

  /**
   * Report an agent state for a pane the way the pane's own process does (what the hooks the
   * server gives Claude Code run): the pane option `@jsp-agent-state` set to
   * "<state> <epoch seconds> <source> <reason or ->" on the pane's tmux session, then the
   * server woken with `wait-for -S jsp-agent-state`. The session is named as
   * jupyter_spaces/host/commands.py session_name(space_id, pane_id) names it.
   */
  setAgentState(spaceId, paneId, state, { reason = null, source = 'hooks', time = Date.now() / 1000 } = {}) {
    const value = `${state} ${time.toFixed(3)} ${source} ${reason ?? '-'}`;
    execFileSync(
      'tmux',
      ['-S', this.tmuxSocket, 'set', '-p', '-t', `=jsp_${spaceId}_${paneId}:`, '@jsp-agent-state', value, ';', 'wait-for', '-S', 'jsp-agent-state'],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10000 }
    );
  }

  api(method, route, body) {
    return fetch(this.url + route, {
      method,
      headers: { Authorization: `token ${this.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    });
  }

  async json(method, route, body) {
    const r = await this.api(method, route, body);
    if (!r.ok) {
      throw new Error(`${method} ${route}: ${r.status} ${await r.text()}`);
    }
    return r.status === 204 ? null : r.json();
  }
}

/** Chromium; with { webgl: false } it has no WebGL, like many CI machines. */
/**
 * Resolves once JupyterLab has saved its workspace with the open space views in it. JupyterLab
 * writes the workspace a moment after the layout changes: a reload before that (a test
 * reloading at once) restores the older layout, for any kind of tab.
 */
export async function waitForWorkspaceSaved(server, views, timeout = 15000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const r = await server.api('GET', '/lab/api/workspaces/default');
    if (r.ok) {
      const ws = await r.json();
      const saved = Object.keys(ws.data ?? {}).filter(k => k.startsWith('jupyter-spaces:')).length;
      if (saved >= views) {
        return;
      }
    }
    await sleep(200);
  }
  throw new Error(`the workspace was not saved with ${views} space view(s) in ${timeout} ms`);
}

export async function launchBrowser({ webgl = true } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(webgl ? [] : ['--disable-webgl', '--disable-3d-apis'])
    ]
  });
}

/**
 * The text a pane's terminal holds (scrollback and screen), read from xterm.js's buffer through
 * the pane widget, so it works with the WebGL renderer (which puts no text in the DOM) too.
 * Needs --LabApp.expose_app_in_browser (the harness sets it).
 */
export async function paneText(page, paneId, lastLines = 500) {
  return page.evaluate(([id, n]) => {
    for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
      const pane = typeof w.content?.pane === 'function' ? w.content.pane(id) : undefined;
      if (pane) {
        return pane.screenText(n);
      }
    }
    return '';
  }, [paneId, lastLines]);
}

export async function waitForText(page, paneId, needle, timeout = 15000) {
  const deadline = Date.now() + timeout;
  let text = '';
  while (Date.now() < deadline) {
    text = await paneText(page, paneId);
    if (text.includes(needle)) {
      return text;
    }
    await sleep(50);
  }
  throw new Error(`pane ${paneId} never showed ${JSON.stringify(needle)}; it shows:\n${text}`);
}

/** Type into a pane the way a person does: focus its terminal, then press keys. */
export async function typeInto(page, paneId, text) {
  await page.click(`.jp-Spaces-pane[data-pane-id="${paneId}"] .jp-Spaces-paneBody`);
  await page.keyboard.type(text);
}

export async function paneIds(page) {
  return page.$$eval('.jp-Spaces-view .jp-Spaces-pane', els => els.map(e => e.dataset.paneId));
}

/** Resolves when `n` panes are on screen, all connected. */
export async function waitForPanes(page, n, timeout = 20000) {
  await page.waitForFunction(
    count => {
      const panes = document.querySelectorAll('.jp-Spaces-view .jp-Spaces-pane');
      return panes.length === count && Array.from(panes).every(p => p.dataset.connection === 'open');
    },
    n,
    // Poll on a timer: requestAnimationFrame polling stalls while the page renders heavily.
    { timeout, polling: 100 }
  );
  return paneIds(page);
}
