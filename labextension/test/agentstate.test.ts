import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { IPane } from '../src/api';
import {
  activityText,
  agentStateLabel,
  agentStateOf,
  agentStateTooltip,
  formatAge,
  formatDuration,
  isAgentState,
  needsInputCount,
  totalNeedsInput
} from '../src/agentstate';

const agent = (state: unknown): Pick<IPane, 'kind' | 'agent_state'> => ({ kind: 'agent', agent_state: state as IPane['agent_state'] });

describe('agent states', () => {
  it('knows the five states and nothing else', () => {
    for (const s of ['starting', 'working', 'needs_input', 'idle', 'exited']) {
      assert.ok(isAgentState(s), s);
    }
    for (const s of ['running', 'NEEDS_INPUT', '', null, undefined, 3]) {
      assert.ok(!isAgentState(s), String(s));
    }
  });

  it('reads a state only on agent panes', () => {
    assert.equal(agentStateOf(agent('working')), 'working');
    assert.equal(agentStateOf(agent(undefined)), null);
    assert.equal(agentStateOf(agent('thinking')), null);
    assert.equal(agentStateOf({ kind: 'shell', agent_state: 'working' }), null);
    assert.equal(agentStateLabel('needs_input'), 'needs input');
  });

  it('counts the panes that need the user, per space and in all', () => {
    const a = { panes: [agent('needs_input'), agent('working'), agent('needs_input'), { kind: 'shell' as const, agent_state: null }] };
    const b = { panes: [agent('needs_input')] };
    assert.equal(needsInputCount(a), 2);
    assert.equal(needsInputCount({ panes: [] }), 0);
    assert.equal(totalNeedsInput([a, b, { panes: [] }]), 3);
  });

  it('explains the state in the tooltip', () => {
    const now = Date.parse('2026-01-01T10:03:00Z');
    const tip = agentStateTooltip(
      {
        kind: 'agent',
        agent_state: 'needs_input',
        agent_state_since: '2026-01-01T10:00:00Z',
        agent_state_source: 'hooks',
        agent_state_reason: 'permission'
      },
      now
    );
    assert.equal(tip, "needs input for 3 min (asks for permission)\nfrom the agent's hooks");
    assert.equal(agentStateTooltip({ kind: 'shell' }), '');
  });
});

describe('durations and ages', () => {
  it('formats durations', () => {
    assert.equal(formatDuration(12.4), '12 s');
    assert.equal(formatDuration(125), '2 min');
    assert.equal(formatDuration(3600 * 2 + 60 * 5), '2 h 5 min');
    assert.equal(formatDuration(7200), '2 h');
    assert.equal(formatDuration(86400 * 3), '3 days');
    assert.equal(formatDuration(-5), '0 s');
    assert.equal(formatDuration(NaN), '0 s');
  });

  it('formats ages as short as a header needs', () => {
    assert.equal(formatAge(2), 'now');
    assert.equal(formatAge(12), '12s');
    assert.equal(formatAge(61), '1m');
    assert.equal(formatAge(7300), '2h');
    assert.equal(formatAge(86400 * 2), '2d');
  });

  it('shows the foreground program and the age of the last output, the later of two sources', () => {
    const now = Date.parse('2026-01-01T10:00:30Z');
    assert.equal(activityText({ foreground: 'make', last_output: '2026-01-01T10:00:00Z' }, now), 'make · 30s');
    assert.equal(activityText({ foreground: 'make', last_output: '2026-01-01T10:00:00Z' }, now, now - 10000), 'make · 10s');
    assert.equal(activityText({ foreground: 'bash', last_output: null }, now), 'bash');
    assert.equal(activityText({ foreground: null, last_output: null }, now), '');
    assert.equal(activityText({}, now), '');
  });
});
