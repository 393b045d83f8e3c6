import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { IAgentCli } from '../src/api';
import { agentAvailability, hasOwnTitle, isShellProgram, normalizeFolder, paneName } from '../src/paneident';

const shell = (foreground: string | null, title = 'shell') =>
  ({ kind: 'shell' as const, agent: null, argv: [], title, foreground, state: 'running' as const });

describe('pane names', () => {
  it('follow the foreground program of a shell until the user renames it', () => {
    const names = ['top', 'vim', 'python3', 'bash'].map(p => paneName(shell(p), 'shell').title);
    assert.deepEqual(names, ['top', 'vim', 'python3', 'shell']);
    assert.equal(new Set(names).size, 4, 'four shells are told apart');
    assert.deepEqual(paneName(shell('top', 'monitor'), 'shell'), { title: 'monitor', source: 'user' });
    assert.equal(paneName(shell('-zsh'), 'shell').source, 'kind');
    assert.equal(paneName({ ...shell('top'), state: 'exited' as const }, 'shell').title, 'shell');
  });

  it('use the agent session title when known', () => {
    const agent = { kind: 'agent' as const, agent: 'claude', argv: [], title: 'claude', foreground: 'node', state: 'running' as const };
    assert.equal(paneName(agent, 'Claude Code').title, 'Claude Code');
    assert.deepEqual(paneName(agent, 'Claude Code', 'Fix the login bug'), { title: 'Fix the login bug', source: 'session' });
    assert.equal(paneName({ ...agent, title: 'reviewer' }, 'Claude Code', 'Fix it').title, 'reviewer');
    assert.ok(paneName(agent, 'Claude Code', 'x'.repeat(100)).title.length <= 60);
  });

  it('know the default titles and the shells', () => {
    assert.equal(hasOwnTitle({ kind: 'shell', agent: null, argv: [], title: '' }), false);
    assert.equal(hasOwnTitle({ kind: 'command', agent: null, argv: ['make'], title: 'make' }), true);
    assert.ok(isShellProgram('bash') && isShellProgram('/bin/zsh') && isShellProgram(null));
    assert.ok(!isShellProgram('htop'));
  });
});

describe('agent availability', () => {
  const clis: IAgentCli[] = [
    { agent: 'claude', name: 'Claude Code', installed: false, path: null, install_hint: 'npm install -g @anthropic-ai/claude-code' },
    { agent: 'codex', name: 'Codex CLI', installed: true, path: '/usr/bin/codex', install_hint: 'npm install -g @openai/codex' }
  ];
  it('greys a missing CLI with the install hint', () => {
    const a = agentAvailability(clis, 'claude');
    assert.equal(a.installed, false);
    assert.match(a.reason!, /npm install -g @anthropic-ai\/claude-code/);
    assert.equal(agentAvailability(clis, 'codex').installed, true);
  });
  it('offers every agent when the server does not say', () => {
    assert.equal(agentAvailability(null, 'gemini').installed, true);
    assert.equal(agentAvailability(clis, 'gemini').installed, true);
  });
});

describe('typed folders', () => {
  it('are made relative to the root and may not leave it', () => {
    assert.equal(normalizeFolder('/proj/sub/'), 'proj/sub');
    assert.equal(normalizeFolder('./a/../b'), 'b');
    assert.equal(normalizeFolder(''), '');
    assert.equal(normalizeFolder('../etc'), null);
  });
});
