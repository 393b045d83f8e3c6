/**
 * Browser tests of the Agent Sessions section: a real JupyterLab and jupyter-server with
 * jupyter-spaces, whose agent index reads session files written here (a Claude Code transcript
 * and a Codex rollout, in temporary CLAUDE_CONFIG_DIR and CODEX_HOME), and a fake `claude` on
 * the server's PATH that prints its arguments, so resuming is seen without the real CLI.
 *
 *   cd labextension && npm run build && cd ui-tests && node --test sessions.test.mjs
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { LabServer, launchBrowser, sleep, waitForPanes, waitForText } from './harness.mjs';

const results = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
fs.mkdirSync(results, { recursive: true });

const CLAUDE_ID = randomUUID();
const CODEX_ID = randomUUID();
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

let server;
let browser;
let page;
let codexFile;

const iso = msAgo => new Date(Date.now() - msAgo).toISOString();
const jsonl = objs => objs.map(o => JSON.stringify(o)).join('\n') + '\n';

/** A Claude Code transcript in <config>/projects/<cwd with every non-alphanumeric as ->/<id>.jsonl. */
function writeClaude(configDir, cwd) {
  const dir = path.join(configDir, 'projects', cwd.replace(/[^A-Za-z0-9]/g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  const base = { isSidechain: false, userType: 'external', cwd, sessionId: CLAUDE_ID, version: '2.1.50', gitBranch: 'main' };
  const t0 = 2 * 3600 * 1000;
  fs.writeFileSync(
    path.join(dir, `${CLAUDE_ID}.jsonl`),
    jsonl([
      {
        ...base,
        parentUuid: null,
        type: 'user',
        message: { role: 'user', content: `Why is the flamingo test flaky? ${HOSTILE}` },
        uuid: 'u-1',
        timestamp: iso(t0)
      },
      {
        ...base,
        parentUuid: 'u-1',
        type: 'assistant',
        requestId: 'req_1',
        message: {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5',
          content: [{ type: 'text', text: 'The flamingo fixture races the clock; pin the time.' }],
          stop_reason: 'end_turn',
          usage: { input_tokens: 1200, cache_creation_input_tokens: 30000, cache_read_input_tokens: 1200000, output_tokens: 800 }
        },
        uuid: 'a-1',
        timestamp: iso(t0 - 60000)
      }
    ])
  );
}

/** A Codex rollout in <home>/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl. */
function writeCodex(home, cwd) {
  const dir = path.join(home, 'sessions', '2026', '02', '10');
  fs.mkdirSync(dir, { recursive: true });
  const ts = iso(26 * 3600 * 1000);
  const x = (type, payload, extra = {}) => ({ timestamp: ts, type, payload, ...extra });
  const file = path.join(dir, `rollout-2026-02-10T14-03-11-${CODEX_ID}.jsonl`);
  const usage = { input_tokens: 5000, cached_input_tokens: 1000, output_tokens: 300, reasoning_output_tokens: 100, total_tokens: 5300 };
  fs.writeFileSync(
    file,
    jsonl([
      x(
        'session_meta',
        { id: CODEX_ID, timestamp: ts, cwd, originator: 'codex_cli_rs', cli_version: '0.98.0', source: 'cli', model_provider: 'openai' },
        { git: { commit_hash: '0'.repeat(40), branch: 'main', repository_url: 'git@x:a/b' } }
      ),
      x('turn_context', { cwd, approval_policy: 'on-request', sandbox_policy: { type: 'workspace-write' }, model: 'gpt-5-codex', effort: 'medium', summary: 'auto' }),
      x('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'plan the pelican migration' }] }),
      x('event_msg', { type: 'user_message', message: 'plan the pelican migration', images: [] }),
      x('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Pelicans first, then the herons.' }] }),
      x('event_msg', { type: 'token_count', info: { total_token_usage: usage, last_token_usage: usage, model_context_window: 272000 }, rate_limits: null })
    ])
  );
  return file;
}

const rows = () =>
  page.$$eval('.jp-Spaces-session', els =>
    els.map(e => ({
      agent: e.dataset.agent,
      id: e.dataset.sessionId,
      gone: e.dataset.gone,
      title: e.querySelector('.jp-Spaces-sessionTitle')?.textContent ?? '',
      cwd: e.querySelector('.jp-Spaces-sessionCwd')?.textContent ?? '',
      time: e.querySelector('.jp-Spaces-sessionTime')?.textContent ?? '',
      tokens: e.querySelector('.jp-Spaces-sessionTokens')?.textContent ?? '',
      marks: Array.from(e.querySelectorAll('.jp-Spaces-sessionSnippet mark'), m => m.textContent),
      snippet: e.querySelector('.jp-Spaces-sessionSnippet')?.textContent ?? '',
      button: e.querySelector('.jp-Spaces-resume')?.textContent ?? ''
    }))
  );

/** Resolves with the rows once `check(rows)` holds. */
async function waitForRows(check, what, timeout = 30000) {
  const deadline = Date.now() + timeout;
  let last = [];
  while (Date.now() < deadline) {
    last = await rows();
    if (check(last)) {
      return last;
    }
    await sleep(100);
  }
  throw new Error(`the sessions list never showed ${what}; it shows ${JSON.stringify(last, null, 1)}`);
}

async function search(text) {
  await page.fill('.jp-Spaces-sessionsQuery', text);
}

before(async () => {
  server = new LabServer({
    env: dir => ({
      CLAUDE_CONFIG_DIR: path.join(dir, 'agents', 'claude'),
      CODEX_HOME: path.join(dir, 'agents', 'codex'),
      GEMINI_CLI_HOME: path.join(dir, 'agents', 'gemini-home'),
      PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`
    })
  });
  const bin = path.join(server.dir, 'bin');
  fs.mkdirSync(bin);
  // It takes --settings (the state hooks jupyter-spaces adds) as the real one does, and shows
  // the rest of its command line.
  fs.writeFileSync(path.join(bin, 'claude'), '#!/bin/sh\n[ "$1" = --settings ] && shift 2\necho "FAKE-CLAUDE $*"\n', {
    mode: 0o755
  });
  for (const d of ['claude', 'codex', 'gemini-home']) {
    fs.mkdirSync(path.join(server.dir, 'agents', d), { recursive: true });
  }
  fs.mkdirSync(path.join(server.root, 'proj'));
  fs.mkdirSync(path.join(server.root, 'other'));
  const root = fs.realpathSync(server.root);
  writeClaude(server.env.CLAUDE_CONFIG_DIR, path.join(root, 'proj'));
  codexFile = writeCodex(server.env.CODEX_HOME, path.join(root, 'other'));
  await server.start();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', error => console.error('[page error]', error));
  page.on('dialog', dialog => {
    // A native alert would mean injected script ran.
    console.error('[unexpected native dialog]', dialog.message());
    void dialog.dismiss();
  });
});

after(async () => {
  await browser?.close();
  await server?.dispose({ keep: process.env.KEEP === '1' });
});

describe('agent sessions in the Spaces sidebar', () => {
  it('lists the sessions found on the server, newest first, with agent, folder, time and tokens', async () => {
    await page.goto(`${server.url}/lab?token=${server.token}`);
    await page.waitForSelector('.jp-LabShell', { timeout: 60000 });
    await page.click('.lm-TabBar-tab[data-id="jp-Spaces-sidebar"]');
    await page.waitForSelector('.jp-Spaces-sessions .jp-Spaces-sessionsQuery');
    const listed = await waitForRows(r => r.length === 2, 'both sessions');
    assert.deepEqual(
      listed.map(r => [r.agent, r.id]),
      [
        ['claude', CLAUDE_ID],
        ['codex', CODEX_ID]
      ]
    );
    const [claude, codex] = listed;
    assert.equal(claude.cwd, 'proj/');
    assert.equal(codex.cwd, 'other/');
    assert.equal(claude.time, '2 h ago');
    assert.equal(codex.time, 'yesterday');
    assert.match(claude.tokens, /^1\.2M tokens$/);
    assert.match(codex.tokens, /tokens$/);
    // No title of its own: the first prompt names it, as text (the markup in it is inert).
    assert.ok(claude.title.startsWith('Why is the flamingo test flaky? <script>'), claude.title);
    assert.equal(claude.button, 'Resume');
  });

  it('searches as one types and highlights the matches, safely', async () => {
    await search('flamingo');
    const [hit] = await waitForRows(
      r => r.length === 1 && r[0].marks.length > 0,
      'one highlighted result for "flamingo"'
    );
    assert.equal(hit.agent, 'claude');
    assert.ok(hit.marks.every(m => /flamingo/i.test(m)), JSON.stringify(hit.marks));
    await search('onerror pwned');
    const [hostile] = await waitForRows(
      r => r.length === 1 && r[0].marks.some(m => /pwned/i.test(m)),
      'a hit on the hostile prompt'
    );
    // The markup in the prompt is shown as the text it is.
    assert.match(hostile.snippet, /<script>window\.__pwned = 1<\/script>/);
    const injected = await page.evaluate(() => ({
      pwned: window.__pwned ?? null,
      elements: document.querySelectorAll('.jp-Spaces-sessions script, .jp-Spaces-sessions img').length,
      snippet: document.querySelector('.jp-Spaces-sessionSnippet')?.textContent ?? ''
    }));
    assert.equal(injected.pwned, null);
    assert.equal(injected.elements, 0);
    assert.match(injected.snippet, /pwned/);
    await page.locator('.jp-Spaces-sidebar').screenshot({ path: path.join(results, 'sessions-search.png') });
  });

  it('filters by agent', async () => {
    await search('');
    await waitForRows(r => r.length === 2, 'both sessions again');
    await page.selectOption('.jp-Spaces-sessionsAgent', 'codex');
    await waitForRows(r => r.length === 1 && r[0].agent === 'codex', 'only the Codex session');
    await page.selectOption('.jp-Spaces-sessionsAgent', '');
    await waitForRows(r => r.length === 2, 'both sessions');
  });

  it('resumes a session into a new space for its folder, after asking', async () => {
    await page.click(`.jp-Spaces-session[data-session-id="${CLAUDE_ID}"] .jp-Spaces-resume`);
    await page.waitForSelector('.jp-Dialog');
    const question = await page.$eval('.jp-Dialog', d => d.textContent);
    assert.match(question, /Create a space for proj\?/);
    await page.click('.jp-Dialog .jp-mod-accept');
    const [paneId] = await waitForPanes(page, 1, 30000);
    await waitForText(page, paneId, `FAKE-CLAUDE --resume ${CLAUDE_ID}`);
    const { spaces } = await server.json('GET', '/api/spaces');
    assert.equal(spaces.length, 1);
    assert.equal(spaces[0].path, 'proj');
    const pane = spaces[0].panes[0];
    assert.equal(pane.kind, 'agent');
    assert.equal(pane.agent, 'claude');
    assert.equal(pane.session_id, CLAUDE_ID);
    // The header names the agent, not the kind.
    const kind = await page.$eval(`.jp-Spaces-pane[data-pane-id="${paneId}"] .jp-Spaces-paneKind`, e => e.textContent);
    assert.equal(kind, 'Claude Code');
  });

  it('shows the running pane instead of resuming a session twice', async () => {
    await waitForRows(r => r.find(x => x.id === CLAUDE_ID)?.button === 'Show', 'Show on the open session');
    await page.click(`.jp-Spaces-session[data-session-id="${CLAUDE_ID}"] .jp-Spaces-resume`);
    await sleep(500);
    assert.equal(await page.$$eval('.jp-Dialog', d => d.length), 0);
    const { spaces } = await server.json('GET', '/api/spaces');
    assert.equal(spaces[0].panes.length, 1);
  });

  it('filters by space', async () => {
    const { spaces } = await server.json('GET', '/api/spaces');
    await page.selectOption('.jp-Spaces-sessionsSpace', spaces[0].id);
    await waitForRows(r => r.length === 1 && r[0].id === CLAUDE_ID, 'only the session in the space');
    await page.selectOption('.jp-Spaces-sessionsSpace', '');
    await waitForRows(r => r.length === 2, 'both sessions');
  });

  it('starts a new Claude Code pane from its command', async () => {
    const { spaces } = await server.json('GET', '/api/spaces');
    await page.evaluate(
      id => window.jupyterapp.commands.execute('jupyter-spaces:new-claude-pane', { spaceId: id }),
      spaces[0].id
    );
    const ids = await waitForPanes(page, 2, 30000);
    const { panes } = await server.json('GET', `/api/spaces/${spaces[0].id}`);
    const fresh = panes.find(p => p.session_id !== CLAUDE_ID);
    assert.ok(ids.includes(fresh.id));
    assert.equal(fresh.kind, 'agent');
    assert.equal(fresh.agent, 'claude');
    // claude gets a session id chosen up front.
    await waitForText(page, fresh.id, `FAKE-CLAUDE --session-id ${fresh.session_id}`);
    assert.equal(await page.$eval(`.jp-Spaces-pane[data-pane-id="${fresh.id}"]`, e => e.dataset.agent), 'claude');
  });

  it('focuses the search box from the command', async () => {
    await page.click('.jp-Spaces-pane .jp-Spaces-paneBody');
    await page.evaluate(() => window.jupyterapp.commands.execute('jupyter-spaces:search-sessions'));
    await page.waitForFunction(() => document.activeElement?.classList.contains('jp-Spaces-sessionsQuery'));
  });

  it('marks a deleted transcript gone and offers a fresh start, reporting a missing CLI', async () => {
    fs.rmSync(codexFile);
    await waitForRows(r => r.find(x => x.id === CODEX_ID)?.gone === 'true', 'the Codex session marked gone', 30000);
    await page.waitForSelector(`.jp-Spaces-session[data-session-id="${CODEX_ID}"] .jp-Spaces-sessionGone`);
    await page.click(`.jp-Spaces-session[data-session-id="${CODEX_ID}"] .jp-Spaces-resume`);
    // No space holds "other" yet: asked first, then about the deleted transcript.
    await page.waitForSelector('.jp-Dialog');
    assert.match(await page.$eval('.jp-Dialog', d => d.textContent), /Create a space for other\?/);
    await page.click('.jp-Dialog .jp-mod-accept');
    await page.waitForFunction(() => /transcript was deleted/.test(document.querySelector('.jp-Dialog')?.textContent ?? ''));
    assert.match(await page.$eval('.jp-Dialog', d => d.textContent), /Start a fresh session in other\//);
    await page.click('.jp-Dialog .jp-mod-accept');
    // codex is not installed on this machine: the server's sentence is shown.
    await page.waitForFunction(() => /not installed/.test(document.querySelector('.jp-Dialog')?.textContent ?? ''));
    await page.click('.jp-Dialog .jp-mod-accept, .jp-Dialog .jp-mod-reject');
  });

  it('takes screenshots of the sidebar in both themes', async () => {
    await search('');
    await waitForRows(r => r.length === 2, 'both sessions');
    for (const theme of ['JupyterLab Light', 'JupyterLab Dark']) {
      await page.evaluate(t => window.jupyterapp.commands.execute('apputils:change-theme', { theme: t }), theme);
      await page.waitForFunction(
        light => document.body.dataset.jpThemeLight === light,
        theme.endsWith('Light') ? 'true' : 'false'
      );
      await sleep(800);
      const name = theme.endsWith('Light') ? 'light' : 'dark';
      await page.screenshot({ path: path.join(results, `sessions-${name}.png`) });
      await page.locator('.jp-Spaces-sidebar').screenshot({ path: path.join(results, `sessions-sidebar-${name}.png`) });
    }
  });
});
