import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ISession } from '../src/api';
import { EVENTS_SCHEMA_ID, parseEvent, parseSessionsChanged } from '../src/events';
import {
  MAX_RESULTS,
  agentLabel,
  compactNumber,
  formatRelative,
  formatTokens,
  normalizeQuery,
  paneKindLabel,
  queryFor,
  resumeRefusal,
  resumeState,
  sessionFolder,
  sessionQueryString,
  sessionTitle,
  splitSnippet,
  unescapeHtml
} from '../src/sessionutils';

function session(over: Partial<ISession> = {}): ISession {
  return {
    agent: 'claude',
    id: '0b7e6a52-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
    title: null,
    title_source: null,
    cwd: '/srv/root/proj',
    path: 'proj',
    space_id: null,
    started: '2026-03-02T09:00:00Z',
    last_activity: '2026-03-02T09:30:00Z',
    first_prompt: null,
    models: [],
    message_count: 4,
    tokens: { input: 1, output: 2, cache_read: 3, cache_creation: 4, reasoning: 0, total: 10 },
    is_subagent: false,
    parent_id: null,
    resumable: true,
    resume_reason: null,
    resume_argv: ['claude', '--resume', 'x'],
    resume_cwd: '/srv/root/proj',
    gone: false,
    files: [],
    format: 'claude-jsonl',
    version: null,
    git_branch: null,
    meta: {},
    ...over
  };
}

describe('splitSnippet', () => {
  it('cuts the server snippet into text and marked matches', () => {
    assert.deepEqual(splitSnippet('…fix the <mark>flaky</mark> test in <mark>ci</mark>…'), [
      { text: '…fix the ', mark: false },
      { text: 'flaky', mark: true },
      { text: ' test in ', mark: false },
      { text: 'ci', mark: true },
      { text: '…', mark: false }
    ]);
  });

  it('keeps escaped markup as text, and reads the escapes back', () => {
    const parts = splitSnippet('&lt;script&gt;alert(1)&lt;/script&gt; and <mark>&lt;img onerror=x&gt;</mark> &amp; &quot;q&quot; &#39;s&#x27;');
    assert.deepEqual(parts, [
      { text: '<script>alert(1)</script> and ', mark: false },
      { text: '<img onerror=x>', mark: true },
      { text: ' & "q" \'s\'', mark: false }
    ]);
  });

  it('treats raw tags other than <mark> as text', () => {
    // A server that forgot to escape must still not get markup in: the parts are text nodes.
    const parts = splitSnippet('<script>alert(1)</script><b>bold</b> <mark class="x">not a marker</mark>');
    assert.deepEqual(parts, [{ text: '<script>alert(1)</script><b>bold</b> <mark class="x">not a marker', mark: false }]);
    assert.ok(parts.every(p => typeof p.text === 'string'));
  });

  it('does not take an escaped marker for a real one', () => {
    assert.deepEqual(splitSnippet('&lt;mark&gt;typed by the user&lt;/mark&gt;'), [
      { text: '<mark>typed by the user</mark>', mark: false }
    ]);
  });

  it('copes with unbalanced and nested marks', () => {
    assert.deepEqual(splitSnippet('a</mark>b'), [{ text: 'ab', mark: false }]);
    assert.deepEqual(splitSnippet('a<mark>b'), [
      { text: 'a', mark: false },
      { text: 'b', mark: true }
    ]);
    assert.deepEqual(splitSnippet('<mark>a<mark>b</mark>c</mark>d'), [
      { text: 'ab', mark: true },
      { text: 'cd', mark: false }
    ]);
    assert.deepEqual(splitSnippet('<MARK>Up</MARK>'), [{ text: 'Up', mark: true }]);
  });

  it('leaves out empty pieces and empty snippets', () => {
    assert.deepEqual(splitSnippet('<mark></mark>x<mark></mark>'), [{ text: 'x', mark: false }]);
    assert.deepEqual(splitSnippet(''), []);
    assert.deepEqual(splitSnippet(null), []);
    assert.deepEqual(splitSnippet(undefined), []);
  });
});

describe('unescapeHtml', () => {
  it('reads named and numeric references, leaves the rest alone', () => {
    assert.equal(unescapeHtml('&lt;a&gt; &amp;amp; &#65;&#x42; &euro; &#0; &#xD800; & x'), '<a> &amp; AB &euro; &#0; &#xD800; & x');
    assert.equal(unescapeHtml('&#128512;'), '😀');
  });
});

describe('query building', () => {
  it('searches by relevance with words, else the newest first', () => {
    assert.deepEqual(queryFor({ text: '  flaky   test ', agent: null, space: null }), {
      q: 'flaky test',
      limit: 50,
      order: 'relevance'
    });
    assert.deepEqual(queryFor({ text: '', agent: 'codex', space: 's1', limit: 100 }), {
      agent: 'codex',
      space: 's1',
      limit: 100,
      order: 'recent'
    });
    assert.equal(queryFor({ text: '', agent: null, space: null, limit: 10_000 }).limit, MAX_RESULTS);
  });

  it('encodes the query string and leaves out what is empty', () => {
    assert.equal(sessionQueryString({}), '');
    assert.equal(
      sessionQueryString({ q: 'a&b c=d/é', agent: 'claude', space: '', limit: 50, offset: 0, order: 'relevance' }),
      '?q=a%26b%20c%3Dd%2F%C3%A9&agent=claude&limit=50&offset=0&order=relevance'
    );
    assert.equal(sessionQueryString({ subagents: false, limit: Number.NaN }), '?subagents=false');
    assert.equal(sessionQueryString({ limit: 12.7 }), '?limit=12');
  });

  it('normalizes white space', () => {
    assert.equal(normalizeQuery('\tfoo\n bar  '), 'foo bar');
    assert.equal(normalizeQuery('   '), '');
  });
});

describe('formatting', () => {
  it('writes token counts compactly', () => {
    assert.equal(compactNumber(0), '0');
    assert.equal(compactNumber(950), '950');
    assert.equal(compactNumber(1234), '1.2k');
    assert.equal(compactNumber(10_400), '10k');
    assert.equal(compactNumber(999_960), '1M');
    assert.equal(compactNumber(1_234_567), '1.2M');
    assert.equal(compactNumber(12_345_678), '12M');
    assert.equal(compactNumber(3e9), '3B');
    assert.equal(compactNumber(-5), '0');
    assert.equal(formatTokens(1_234_567), '1.2M tokens');
    assert.equal(formatTokens(1), '1 token');
    assert.equal(formatTokens(0), 'no tokens');
    assert.equal(formatTokens(undefined), 'no tokens');
  });

  it('says how long ago', () => {
    const now = Date.parse('2026-03-10T12:00:00Z');
    assert.equal(formatRelative('2026-03-10T11:59:30Z', now), 'just now');
    assert.equal(formatRelative('2026-03-10T12:01:00Z', now), 'just now');
    assert.equal(formatRelative('2026-03-10T11:55:00Z', now), '5 min ago');
    assert.equal(formatRelative('2026-03-10T09:00:00Z', now), '3 h ago');
    assert.equal(formatRelative('2026-03-09T10:00:00Z', now), 'yesterday');
    assert.equal(formatRelative('2026-03-06T12:00:00Z', now), '4 days ago');
    assert.match(formatRelative('2026-01-02T12:00:00Z', now), /^2026-01-0[12]$/);
    assert.equal(formatRelative(null, now), '');
    assert.equal(formatRelative('not a time', now), '');
    // POSIX seconds, as the server may also give.
    assert.equal(formatRelative(now / 1000 - 120, now), '2 min ago');
  });

  it('names a session by its title, else its first prompt, else its id', () => {
    assert.equal(sessionTitle(session({ title: 'Fix CI', first_prompt: 'please' })), 'Fix CI');
    assert.equal(sessionTitle(session({ title: '  ', first_prompt: 'fix\n  the   build' })), 'fix the build');
    assert.equal(sessionTitle(session()), '0b7e6a52-1c2d-4e5f-8a9b-0c1d2e3f4a5b');
    const long = sessionTitle(session({ first_prompt: 'x'.repeat(300) }), 50);
    assert.equal(long.length, 50);
    assert.ok(long.endsWith('…'));
  });

  it('names the folder relative to the root when it can', () => {
    assert.equal(sessionFolder(session()), 'proj/');
    assert.equal(sessionFolder(session({ path: '' })), '/');
    assert.equal(sessionFolder(session({ path: null, cwd: '/elsewhere/app' })), '/elsewhere/app');
    assert.equal(sessionFolder(session({ path: null, cwd: null })), '');
  });

  it('names agents and agent panes', () => {
    assert.equal(agentLabel('claude'), 'Claude Code');
    assert.equal(agentLabel('gemini'), 'Gemini');
    assert.equal(agentLabel('aider'), 'aider');
    assert.equal(agentLabel(null), 'Agent');
    assert.equal(paneKindLabel({ kind: 'agent', agent: 'codex' }), 'Codex');
    assert.equal(paneKindLabel({ kind: 'shell', agent: null }), 'shell');
  });
});

describe('resume', () => {
  it('enables Resume for resumable and deleted sessions, explains the rest', () => {
    assert.deepEqual(resumeState(session()), { enabled: true, reason: '' });
    const gone = resumeState(session({ resumable: false, gone: true, resume_reason: 'transcript deleted' }));
    assert.equal(gone.enabled, true);
    assert.match(gone.reason, /fresh session can be started in proj\//);
    assert.deepEqual(resumeState(session({ resumable: false, is_subagent: true, resume_reason: 'a sub-agent' })), {
      enabled: false,
      reason: 'a sub-agent'
    });
    assert.equal(resumeState(session({ resumable: false, gone: true, is_subagent: true })).enabled, false);
    assert.equal(resumeState(session({ resumable: false })).reason, 'This session cannot be resumed.');
  });

  it('reads a refusal body defensively', () => {
    assert.deepEqual(resumeRefusal(409, { message: 'no space holds proj', reason: 'no_space', path: 'proj' }), {
      status: 409,
      reason: 'no_space',
      message: 'no space holds proj',
      path: 'proj',
      space_id: null,
      pane_id: null
    });
    const open = resumeRefusal(409, { message: 'open', reason: 'already_open', space_id: 's1', pane_id: 'p2' });
    assert.equal(open.space_id, 's1');
    assert.equal(open.pane_id, 'p2');
    assert.deepEqual(resumeRefusal(409, '<html>'), {
      status: 409,
      reason: null,
      message: 'The server refused (HTTP 409).',
      path: null,
      space_id: null,
      pane_id: null
    });
  });
});

describe('sessions_changed', () => {
  it('is read apart from the space events', () => {
    const e = { schema_id: EVENTS_SCHEMA_ID, action: 'sessions_changed', count: 3 };
    assert.equal(parseSessionsChanged(e), 3);
    assert.equal(parseSessionsChanged({ ...e, count: undefined }), 0);
    assert.equal(parseEvent(e), null);
    assert.equal(parseSessionsChanged({ schema_id: EVENTS_SCHEMA_ID, action: 'space_created', space_id: 's' }), null);
    assert.equal(parseSessionsChanged({ schema_id: 'other', action: 'sessions_changed' }), null);
    assert.equal(parseSessionsChanged(null), null);
  });
});
