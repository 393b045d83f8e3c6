/**
 * Key-to-paint latency in a real browser: a jupyter-spaces pane next to JupyterLab's stock
 * terminal (jupyter_server_terminals / terminado), both visible at the same time, in one run,
 * on one server.
 *
 *   cd labextension/ui-tests && node latency.mjs [--json PATH]      (after npm run build)
 *   KEYS=300 WARMUP=20 CLEAR_EVERY=50 GAP_MS=30-50 TIMEOUT_MS=1000 SEED=1 PROBE_KEYS=100 to change
 *
 * Method
 * - One isolated `jupyter lab` (harness.mjs LabServer) with jupyter-spaces and
 *   jupyter_server_terminals. Both terminals run the same shell,
 *   `env PS1='$ ' bash --norc --noprofile -i`: the pane as a `command` pane
 *   (POST /api/spaces/{id}/panes), the stock terminal through
 *   ServerApp.terminado_settings.shell_command, written to the server's private
 *   JUPYTER_CONFIG_DIR (the harness's command line has no hook for it) and checked by
 *   asking each shell for $0 and $BASH_VERSION before measuring.
 * - Headless Chromium without WebGL (launchBrowser({ webgl: false })). The pane then uses
 *   xterm.js's DOM renderer by itself. JupyterLab's terminal falls back to xterm.js's *canvas*
 *   addon instead, whose text is not in the DOM; the benchmark disposes that addon (found in
 *   the xterm.js instance's addon manager), which hands the terminal back to xterm.js's DOM
 *   renderer, so both paint through the same renderer and are observed the same way.
 * - The space is opened and the terminal is docked to its right (split-right), so both are on
 *   screen: xterm.js does not render a terminal that is not visible.
 * - Keys: printable characters ([a-z0-9], seeded PRNG), one at a time at an idle `$ ` prompt,
 *   sent with Playwright's page.keyboard.press (CDP Input.dispatchKeyEvent, like a real key).
 *   The next key goes GAP_MS (uniformly drawn in 30-50 ms) after the previous one was painted
 *   (or timed out). Ctrl-U empties the line every CLEAR_EVERY keys (and after a timeout); the
 *   benchmark waits for the empty prompt before going on. WARMUP keys per terminal first (not
 *   counted), then KEYS per terminal in blocks of CLEAR_EVERY, alternating the terminals in
 *   ABBA order (pane, stock, stock, pane, ...) so drift hits both alike; focus moves to the
 *   other terminal's textarea between blocks.
 * - t0, in the page: performance.now() in a capture-phase `keydown` listener, for events whose
 *   target is the terminal's textarea (.xterm-helper-textarea). It listens on window rather
 *   than on the textarea itself because xterm.js's own capture listener on the textarea is
 *   registered first and sends the key to the WebSocket synchronously; on window it runs
 *   before anything else in the page sees the key.
 * - t1, in the page: a MutationObserver on the terminal's `.xterm-rows` (childList, subtree,
 *   characterData) checks, on each batch of mutations, whether some row now reads exactly
 *   `$ ` followed by the characters typed since the last Ctrl-U (U+00A0 read as a space,
 *   trailing blanks ignored). On the first match it calls requestAnimationFrame, and t1 is that
 *   callback's timestamp: the start of the first frame after the DOM change, i.e. after the
 *   frame that painted it (never earlier than the DOM change). latency = t1 - t0.
 * - A key whose echo is not painted within TIMEOUT_MS counts as a timeout (not in the
 *   percentiles); nothing is retried.
 * - Breakdown (diagnostic, same clock): WebSocket is wrapped by an init script so that the
 *   page also records when the key's ["stdin", ...] frame was handed to ws.send and when the
 *   first ["stdout", ...] message after it arrived (a listener added in the constructor, so
 *   before the client's own onmessage). Stages: key -> ws.send, ws.send -> stdout message
 *   (network, server, shell, and tmux for the pane), stdout -> row in the DOM (xterm.js parse
 *   and its render frame), DOM -> next frame.
 * - Echo probe (diagnostic, after the measurement): a second page of the same browser, which
 *   paints nothing, opens a WebSocket of its own to each terminal (the pane's channel with
 *   history=0, the terminal's /terminals/websocket/{name}) and times ["stdin", key] sent to
 *   the first ["stdout", ...] carrying the key, PROBE_KEYS keys each, same gaps and Ctrl-U
 *   cadence, blocks alternating ABBA. It tells the server's echo time apart from the
 *   browser's frame scheduling in the main page. It types into the same two shells.
 * - Statistics: nearest-rank percentiles over the keys that did not time out.
 * - Target: pane p95 <= 50 ms, and no worse than the stock terminal:
 *   pane p95 <= stock p95 x 1.1 + 2 ms.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

import { LabServer, launchBrowser, sleep, waitForPanes } from './harness.mjs';

const KEYS = Number(process.env.KEYS || 300);
const WARMUP = Number(process.env.WARMUP || 20);
const CLEAR_EVERY = Number(process.env.CLEAR_EVERY || 50);
const [GAP_MIN, GAP_MAX] = (process.env.GAP_MS || '30-50').split('-').map(Number);
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS || 1000);
const SEED = Number(process.env.SEED || 1);
const PROBE_KEYS = Number(process.env.PROBE_KEYS || 100);
const TARGET_P95 = 50;
const NO_WORSE_FACTOR = 1.1;
const NO_WORSE_SLACK = 2;
const jsonIndex = process.argv.indexOf('--json');
const jsonPath = jsonIndex >= 0 ? process.argv[jsonIndex + 1] : null;
if (jsonIndex >= 0 && !jsonPath) {
  throw new Error('--json needs a path');
}

const SHELL = ['env', 'PS1=$ ', 'bash', '--norc', '--noprofile', '-i'];
const CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const KINDS = ['pane', 'stock'];
const LABEL = { pane: 'jupyter-spaces pane', stock: 'JupyterLab terminal (stock)' };

/** mulberry32: the same keys and gaps every run with the same SEED. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);

/** Nearest-rank percentile of an ascending array. */
function pct(sorted, p) {
  if (sorted.length === 0) {
    return NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: pct(s, 50),
    p95: pct(s, 95),
    p99: pct(s, 99),
    mean: s.length ? s.reduce((x, y) => x + y, 0) / s.length : NaN,
    min: s.length ? s[0] : NaN,
    max: s.length ? s[s.length - 1] : NaN
  };
}

const ms = x => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

/**
 * Runs in the page before JupyterLab: wraps WebSocket to time the stdin/stdout frames of the
 * key being measured, and defines window.__lat, the in-page probe.
 */
function pageInit() {
  const Native = window.WebSocket;
  const kindOf = url =>
    /\/api\/spaces\/[^/]+\/panes\/[^/]+\/channel/.test(url) ? 'pane' : /\/terminals\/websocket\//.test(url) ? 'stock' : null;
  const current = kind => {
    const st = window.__lat && window.__lat.state;
    return st && st.kind === kind && !st.done ? st : null;
  };
  class TimedWebSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      const kind = kindOf(String(url));
      this.__latKind = kind;
      if (kind !== null) {
        this.addEventListener('message', event => {
          const st = current(kind);
          if (st && st.tSend !== null && st.tRecv === null && typeof event.data === 'string' && event.data.startsWith('["stdout"')) {
            st.tRecv = performance.now();
          }
        });
      }
    }
    send(data) {
      const st = this.__latKind === null ? null : current(this.__latKind);
      if (st && st.t0 !== null && st.tSend === null && typeof data === 'string' && data.startsWith('["stdin"')) {
        st.tSend = performance.now();
      }
      return super.send(data);
    }
  }
  window.WebSocket = TimedWebSocket;

  const targets = {};
  const lat = {
    state: null,
    /** Start watching one terminal: its textarea (for t0) and its .xterm-rows (for t1). */
    install(kind, textarea, rows) {
      targets[kind] = { textarea, rows };
      new MutationObserver(() => lat._check(kind)).observe(rows, { childList: true, subtree: true, characterData: true });
    },
    rowsText(kind) {
      return Array.from(targets[kind].rows.children, r => r.textContent.replace(/\u00a0/g, ' ').replace(/\s+$/, ''));
    },
    /** The next keydown on `kind`'s textarea is timed; done when a row reads `expect`. */
    arm(kind, expect) {
      lat.state = { kind, expect, t0: null, tSend: null, tRecv: null, tDom: null, t1: null, done: false, waiters: [] };
    },
    _check(kind) {
      const st = lat.state;
      if (!st || st.kind !== kind || st.t0 === null || st.tDom !== null) {
        return;
      }
      if (!lat.rowsText(kind).includes(st.expect)) {
        return;
      }
      st.tDom = performance.now();
      requestAnimationFrame(ts => {
        // A frame cannot have painted a change made after it began (xterm.js renders in its
        // own frame callback, so this only matters for a change made outside one).
        st.t1 = Math.max(ts, st.tDom);
        st.done = true;
        for (const w of st.waiters) {
          w();
        }
      });
    },
    /** Resolves with the timings once painted, or with done: false after `timeout` ms. */
    result(timeout) {
      const st = lat.state;
      const pick = () => ({ done: st.done, t0: st.t0, tSend: st.tSend, tRecv: st.tRecv, tDom: st.tDom, t1: st.t1 });
      if (st.done) {
        return pick();
      }
      return new Promise(resolve => {
        const timer = setTimeout(() => {
          st.done = true; // late paints of this key no longer count
          resolve(pick());
        }, timeout);
        st.waiters.push(() => {
          clearTimeout(timer);
          resolve(pick());
        });
      });
    }
  };
  window.addEventListener(
    'keydown',
    event => {
      const st = lat.state;
      if (st && st.t0 === null && targets[st.kind] && event.target === targets[st.kind].textarea) {
        st.t0 = performance.now();
      }
    },
    true
  );
  window.__lat = lat;
}

/**
 * Runs in a second page of the same browser (nothing rendered there, no terminal): opens its
 * own WebSocket to each terminal and times, with performance.now(), a stdin frame to the first
 * stdout frame carrying the echo. The diagnostic for the main table's "ws.send -> stdout"
 * stage: the same round trip without a terminal being painted in that page.
 */
async function echoProbe({ urls, plan, timeout }) {
  const open = url =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const inbox = [];
      ws.onmessage = e => {
        inbox.push([performance.now(), String(e.data)]);
        ws.onnew?.();
      };
      ws.onopen = () => resolve({ ws, inbox });
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
    });
  const socks = {};
  for (const [kind, url] of Object.entries(urls)) {
    socks[kind] = await open(url);
    socks[kind].ws.send(JSON.stringify(['stdin', '\u0015']));
  }
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  await sleep(1000); // connect-time redraws and replays are over
  const out = {};
  for (const kind of Object.keys(urls)) {
    out[kind] = { rtt: [], timeouts: 0 };
  }
  for (const step of plan) {
    const { ws, inbox } = socks[step.kind];
    await sleep(step.gap);
    if (step.clear) {
      ws.send(JSON.stringify(['stdin', '\u0015']));
      await sleep(100);
      continue;
    }
    inbox.length = 0;
    const t0 = performance.now();
    ws.send(JSON.stringify(['stdin', step.ch]));
    const t1 = await new Promise(resolve => {
      const look = () => {
        for (const [t, data] of inbox) {
          try {
            const m = JSON.parse(data);
            if (m[0] === 'stdout' && String(m[1]).includes(step.ch)) {
              return t;
            }
          } catch {
            // not JSON: not an echo
          }
        }
        return null;
      };
      const timer = setTimeout(() => {
        ws.onnew = null;
        resolve(null);
      }, timeout);
      ws.onnew = () => {
        const t = look();
        if (t !== null) {
          clearTimeout(timer);
          ws.onnew = null;
          resolve(t);
        }
      };
      ws.onnew();
    });
    if (t1 === null) {
      out[step.kind].timeouts += 1;
    } else {
      out[step.kind].rtt.push(t1 - t0);
    }
  }
  for (const { ws } of Object.values(socks)) {
    ws.send(JSON.stringify(['stdin', '\u0015']));
    ws.close();
  }
  return out;
}

const server = new LabServer();
let browser;
let terminalName = null;
const startedAt = Date.now();
try {
  // The stock terminal's shell: jupyter_server_terminals reads ServerApp.terminado_settings.
  fs.writeFileSync(
    path.join(server.dir, 'config', 'jupyter_server_config.json'),
    JSON.stringify({ ServerApp: { terminado_settings: { shell_command: SHELL } } }, null, 2)
  );
  await server.start();
  const { id: spaceId } = await server.json('POST', '/api/spaces', { path: '', name: 'latency' });
  const pane = await server.json('POST', `/api/spaces/${spaceId}/panes`, { kind: 'command', argv: SHELL, title: 'bash' });

  browser = await launchBrowser({ webgl: false });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', error => console.error('[page error]', error));
  await page.addInitScript(pageInit);
  await page.goto(`${server.url}/lab?token=${server.token}`);
  await page.waitForSelector('.jp-LabShell', { timeout: 60000 });
  await page.evaluate(() => window.jupyterapp.shell.collapseLeft());

  // The space, then the stock terminal docked to its right: both on screen.
  await page.evaluate(async id => {
    const app = window.jupyterapp;
    window.__spaceWidget = await app.commands.execute('jupyter-spaces:open', { spaceId: id });
  }, spaceId);
  await waitForPanes(page, 1);
  terminalName = await page.evaluate(async () => {
    const app = window.jupyterapp;
    const w = await app.commands.execute('terminal:create-new');
    window.__termWidget = w;
    await w.content.ready;
    app.shell.add(w, 'main', { mode: 'split-right', ref: window.__spaceWidget.id });
    return w.content.session.name;
  });

  // The stock terminal: drop the canvas addon JupyterLab loads without WebGL; xterm.js goes
  // back to its DOM renderer.
  const stockRenderer = await page.evaluate(() => {
    const term = window.__termWidget.content._term;
    const addons = term._addonManager?._addons ?? [];
    const canvas = addons.filter(a => a.instance && typeof a.instance.clearTextureAtlas === 'function');
    for (const a of canvas) {
      a.instance.dispose();
    }
    return canvas.length ? `dom (canvas addon disposed)` : term.element.querySelector('.xterm-rows') ? 'dom' : 'unknown';
  });

  const sel = {
    pane: {
      textarea: `.jp-Spaces-pane[data-pane-id="${pane.id}"] .xterm-helper-textarea`,
      rows: `.jp-Spaces-pane[data-pane-id="${pane.id}"] .xterm-rows`
    },
    stock: { textarea: null, rows: null }
  };
  const termId = await page.evaluate(() => window.__termWidget.id);
  sel.stock.textarea = `[id="${termId}"] .xterm-helper-textarea`;
  sel.stock.rows = `[id="${termId}"] .xterm-rows`;
  for (const kind of KINDS) {
    await page.waitForSelector(sel[kind].rows, { state: 'attached', timeout: 20000 });
    await page.evaluate(([k, t, r]) => window.__lat.install(k, document.querySelector(t), document.querySelector(r)), [
      kind,
      sel[kind].textarea,
      sel[kind].rows
    ]);
  }
  const paneRenderer = await page.$eval(`.jp-Spaces-pane[data-pane-id="${pane.id}"]`, e => e.dataset.renderer);

  const rows = kind => page.evaluate(k => window.__lat.rowsText(k), kind);
  async function waitForRow(kind, pred, what, timeout = 10000) {
    const deadline = Date.now() + timeout;
    let r = [];
    while (Date.now() < deadline) {
      r = await rows(kind);
      if (r.some(pred)) {
        return r;
      }
      await sleep(25);
    }
    throw new Error(`${LABEL[kind]}: no row ${what} in ${timeout} ms; rows:\n${r.join('\n')}`);
  }
  /** The line is empty: the last non-blank row is the bare prompt. */
  async function waitForCleanPrompt(kind, timeout = 10000) {
    const deadline = Date.now() + timeout;
    let r = [];
    while (Date.now() < deadline) {
      r = (await rows(kind)).filter(x => x !== '');
      if (r.length && r[r.length - 1] === '$') {
        return;
      }
      await sleep(20);
    }
    throw new Error(`${LABEL[kind]}: no empty prompt in ${timeout} ms; rows:\n${r.join('\n')}`);
  }
  async function focus(kind) {
    await page.focus(sel[kind].textarea);
    await sleep(300);
  }

  // Both shells are the same bash: ask them.
  const shellInfo = {};
  for (const kind of KINDS) {
    await focus(kind);
    await waitForRow(kind, r => r === '$', 'with the prompt', 20000);
    await page.keyboard.type('echo "id:$0:${BASH_VERSION}:$TERM"\r');
    const r = await waitForRow(kind, x => x.startsWith('id:'), 'with the shell');
    shellInfo[kind] = r.find(x => x.startsWith('id:')).slice(3);
    await page.keyboard.press('Control+L');
    await waitForCleanPrompt(kind);
  }

  const samples = { pane: [], stock: [] };
  const timeouts = { pane: 0, stock: 0 };

  /** Types `count` keys into `kind`, one at a time; records them unless warming up. */
  async function block(kind, count, record) {
    await focus(kind);
    await page.keyboard.press('Control+U');
    await waitForCleanPrompt(kind);
    let typed = '';
    for (let i = 0; i < count; i++) {
      if (typed.length >= CLEAR_EVERY) {
        await page.keyboard.press('Control+U');
        await waitForCleanPrompt(kind);
        typed = '';
      }
      await sleep(GAP_MIN + random() * (GAP_MAX - GAP_MIN));
      const ch = CHARS[Math.floor(random() * CHARS.length)];
      await page.evaluate(([k, e]) => window.__lat.arm(k, e), [kind, `$ ${typed}${ch}`]);
      await page.keyboard.press(ch);
      const r = await page.evaluate(t => window.__lat.result(t), TIMEOUT_MS);
      typed += ch;
      if (!record) {
        if (!r.done || r.t1 === null) {
          typed = 'x'.repeat(CLEAR_EVERY); // unknown line state: clear before the next key
        }
        continue;
      }
      if (r.t1 === null) {
        timeouts[kind] += 1;
        typed = 'x'.repeat(CLEAR_EVERY);
        continue;
      }
      samples[kind].push({
        latency: r.t1 - r.t0,
        keyToSend: r.tSend !== null ? r.tSend - r.t0 : null,
        sendToStdout: r.tSend !== null && r.tRecv !== null ? r.tRecv - r.tSend : null,
        stdoutToDom: r.tRecv !== null ? r.tDom - r.tRecv : null,
        domToFrame: r.t1 - r.tDom
      });
    }
    await page.keyboard.press('Control+U');
    await waitForCleanPrompt(kind);
  }

  for (const kind of KINDS) {
    await block(kind, WARMUP, false);
  }
  const blocks = Math.ceil(KEYS / CLEAR_EVERY);
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? ['pane', 'stock'] : ['stock', 'pane'];
    const count = Math.min(CLEAR_EVERY, KEYS - b * CLEAR_EVERY);
    for (const kind of order) {
      await block(kind, count, true);
    }
  }

  // Diagnostic: the echo round trip over a WebSocket of its own, from a page that paints nothing.
  const probePlan = [];
  const probeBlock = Math.max(1, Math.ceil(CLEAR_EVERY / 2));
  for (let b = 0; b * probeBlock < PROBE_KEYS; b++) {
    const order = b % 2 === 0 ? ['pane', 'stock'] : ['stock', 'pane'];
    const count = Math.min(probeBlock, PROBE_KEYS - b * probeBlock);
    for (const kind of order) {
      for (let i = 0; i < count; i++) {
        probePlan.push({ kind, ch: CHARS[Math.floor(random() * CHARS.length)], gap: GAP_MIN + random() * (GAP_MAX - GAP_MIN) });
      }
      probePlan.push({ kind, clear: true, gap: GAP_MIN });
    }
  }
  const wsBase = server.url.replace(/^http/, 'ws');
  const token = encodeURIComponent(server.token);
  // A page of the server's own origin that is not JupyterLab: its "404 Not Found" page. (The
  // API's JSON pages forbid connections by CSP; a page served by Playwright's route() has no
  // address space, so Chromium's local network access checks block it from 127.0.0.1.)
  const probePage = await context.newPage();
  await probePage.goto(`${server.url}/latency-probe-no-such-page`);
  const probe =
    PROBE_KEYS > 0
      ? await probePage.evaluate(echoProbe, {
          urls: {
            pane: `${wsBase}/api/spaces/${spaceId}/panes/${pane.id}/channel?history=0&token=${token}`,
            stock: `${wsBase}/terminals/websocket/${terminalName}?token=${token}`
          },
          plan: probePlan,
          timeout: TIMEOUT_MS
        })
      : null;
  await probePage.close();

  // The page's frame interval, for reading the numbers: the latency is counted in frames.
  const frameMs = await page.evaluate(
    () =>
      new Promise(resolve => {
        const ts = [];
        const tick = t => {
          ts.push(t);
          if (ts.length < 31) {
            requestAnimationFrame(tick);
          } else {
            const d = ts.slice(1).map((x, i) => x - ts[i]).sort((a, b) => a - b);
            resolve(d[Math.floor(d.length / 2)]);
          }
        };
        requestAnimationFrame(tick);
      })
  );

  // Report.
  const stats = {};
  const stages = {};
  for (const kind of KINDS) {
    stats[kind] = { ...summary(samples[kind].map(s => s.latency)), timeouts: timeouts[kind] };
    stages[kind] = {};
    for (const stage of ['keyToSend', 'sendToStdout', 'stdoutToDom', 'domToFrame']) {
      stages[kind][stage] = summary(samples[kind].map(s => s[stage]).filter(x => x !== null));
    }
  }
  const bound = stats.stock.p95 * NO_WORSE_FACTOR + NO_WORSE_SLACK;
  const meetsAbsolute = stats.pane.p95 <= TARGET_P95;
  const noWorse = stats.pane.p95 <= bound;
  const pass = meetsAbsolute && noWorse && stats.pane.n > 0 && stats.stock.n > 0;

  const lines = [];
  lines.push(`## Key-to-paint latency (ms), ${KEYS} keys per terminal after ${WARMUP} warm-up`);
  lines.push('');
  lines.push('| terminal | renderer | n | timeouts | p50 | p95 | p99 | mean | target |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---|');
  lines.push(
    `| ${LABEL.pane} | ${paneRenderer} | ${stats.pane.n} | ${stats.pane.timeouts} | ${ms(stats.pane.p50)} | ${ms(stats.pane.p95)} | ${ms(stats.pane.p99)} | ${ms(stats.pane.mean)} | p95 ≤ ${TARGET_P95} and ≤ stock p95 × ${NO_WORSE_FACTOR} + ${NO_WORSE_SLACK} = ${ms(bound)} |`
  );
  lines.push(
    `| ${LABEL.stock} | ${stockRenderer} | ${stats.stock.n} | ${stats.stock.timeouts} | ${ms(stats.stock.p50)} | ${ms(stats.stock.p95)} | ${ms(stats.stock.p99)} | ${ms(stats.stock.mean)} | (reference) |`
  );
  lines.push('');
  lines.push(
    `**Verdict: ${pass ? 'PASS' : 'FAIL'}** — pane p95 ${ms(stats.pane.p95)} ms ${meetsAbsolute ? '≤' : '>'} ${TARGET_P95} ms; ` +
      `${noWorse ? 'no worse than' : 'worse than'} stock (${ms(stats.pane.p95)} ${noWorse ? '≤' : '>'} ${ms(stats.stock.p95)} × ${NO_WORSE_FACTOR} + ${NO_WORSE_SLACK} = ${ms(bound)}).`
  );
  lines.push('');
  lines.push('Where the time goes (p50 / p95, ms; same clock, from the page):');
  lines.push('');
  lines.push('| terminal | key → ws.send | ws.send → stdout frame | stdout frame → row in DOM | DOM → next frame |');
  lines.push('|---|---:|---:|---:|---:|');
  for (const kind of KINDS) {
    const st = stages[kind];
    const cell = s => `${ms(s.p50)} / ${ms(s.p95)}`;
    lines.push(`| ${LABEL[kind]} | ${cell(st.keyToSend)} | ${cell(st.sendToStdout)} | ${cell(st.stdoutToDom)} | ${cell(st.domToFrame)} |`);
  }
  if (probe !== null) {
    lines.push('');
    lines.push(
      `Echo round trip without painting (diagnostic; a second page with its own WebSocket to each terminal, ${PROBE_KEYS} keys each, stdin frame sent → stdout frame with the echo received, ms):`
    );
    lines.push('');
    lines.push('| terminal | n | timeouts | p50 | p95 | p99 | mean |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const kind of KINDS) {
      const p = summary(probe[kind].rtt);
      probe[kind].stats = p;
      lines.push(`| ${LABEL[kind]} | ${p.n} | ${probe[kind].timeouts} | ${ms(p.p50)} | ${ms(p.p95)} | ${ms(p.p99)} | ${ms(p.mean)} |`);
    }
  }
  lines.push('');
  lines.push(
    `<sub>Method: headless Chromium (${await browser.version()}) without WebGL, ${os.cpus().length} CPUs, frame interval ${ms(frameMs)} ms (median of 30 rAF deltas); both terminals on screen side by side, ` +
      `both running \`${SHELL.map(a => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}\` (pane: ${shellInfo.pane}; stock: ${shellInfo.stock}), both on xterm.js's DOM renderer ` +
      `(the stock terminal's canvas addon disposed). One printable key at a time ([a-z0-9], seed ${SEED}) via page.keyboard.press at an idle prompt, ` +
      `${GAP_MIN}–${GAP_MAX} ms after the previous key was painted; Ctrl-U every ${CLEAR_EVERY} keys; blocks of ${CLEAR_EVERY} alternating ABBA. ` +
      `t0 = performance.now() in a capture-phase keydown listener (on window, target = the terminal's textarea); ` +
      `t1 = timestamp of the first requestAnimationFrame requested after a MutationObserver on .xterm-rows saw the row read "$ <typed>". ` +
      `Latency = t1 − t0; nearest-rank percentiles; no echo painted within ${TIMEOUT_MS} ms = timeout (excluded from percentiles), no retries. ` +
      `Breakdown stages come from a WebSocket wrapper in the page (time of ws.send of the key's stdin frame, of the first stdout message after it); ` +
      `the echo probe is a separate page, after the measurement, with a WebSocket of its own to each terminal.</sub>`
  );
  const table = lines.join('\n');
  console.log(table);
  console.log(`\n(run took ${((Date.now() - startedAt) / 1000).toFixed(0)} s)`);

  if (jsonPath) {
    fs.writeFileSync(
      jsonPath,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          config: { keys: KEYS, warmup: WARMUP, clearEvery: CLEAR_EVERY, gapMs: [GAP_MIN, GAP_MAX], timeoutMs: TIMEOUT_MS, seed: SEED, shell: SHELL },
          environment: {
            chromium: await browser.version(),
            cpus: os.cpus().length,
            node: process.version,
            tmux: execFileSync('tmux', ['-V']).toString().trim(),
            frameMs,
            renderers: { pane: paneRenderer, stock: stockRenderer },
            shells: shellInfo
          },
          target: { p95: TARGET_P95, noWorse: `pane p95 <= stock p95 * ${NO_WORSE_FACTOR} + ${NO_WORSE_SLACK}`, bound },
          verdict: { pass, meetsAbsolute, noWorse },
          stats,
          stages,
          samples,
          echoProbe: probe,
          table
        },
        null,
        2
      )
    );
    console.log(`results in ${jsonPath}`);
  }
} finally {
  await browser?.close();
  if (terminalName !== null) {
    await server.api('DELETE', `/api/terminals/${terminalName}`).catch(() => {});
  }
  await server.dispose();
}
