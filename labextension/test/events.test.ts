import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { EVENTS_SCHEMA_ID, parseEvent, planFor } from '../src/events';

const emit = (data: Record<string, unknown>) => ({ schema_id: EVENTS_SCHEMA_ID, ...data });

describe('parseEvent', () => {
  it('reads a jupyter-spaces event', () => {
    assert.deepEqual(parseEvent(emit({ action: 'pane_state', space_id: 's1', pane_id: 'p1', state: 'exited', exit_code: 3 })), {
      action: 'pane_state',
      spaceId: 's1',
      paneId: 'p1',
      state: 'exited',
      exitCode: 3,
      agent: null
    });
  });

  it('ignores other schemas, unknown actions and malformed events', () => {
    assert.equal(parseEvent({ schema_id: 'https://events.jupyter.org/jupyter_server/kernel_actions/v1', action: 'start' }), null);
    assert.equal(parseEvent(emit({ action: 'space_exploded', space_id: 's1' })), null);
    assert.equal(parseEvent(emit({ action: 'space_created' })), null);
    assert.equal(parseEvent(null), null);
    assert.equal(parseEvent('space_created'), null);
  });
});

describe('planFor', () => {
  it('patches pane states in place, removes deleted spaces, fetches the rest', () => {
    const plan = (data: Record<string, unknown>) => planFor(parseEvent(emit({ space_id: 's', ...data }))!);
    assert.equal(plan({ action: 'pane_state', pane_id: 'p', state: 'gone' }), 'state');
    assert.equal(plan({ action: 'pane_state', pane_id: 'p' }), 'fetch');
    assert.equal(plan({ action: 'space_deleted' }), 'remove');
    for (const action of ['space_created', 'space_updated', 'pane_created', 'pane_updated', 'pane_deleted']) {
      assert.equal(plan({ action, pane_id: 'p' }), 'fetch', action);
    }
  });
});

describe('agent_state events', () => {
  const body = {
    action: 'agent_state',
    space_id: 's1',
    pane_id: 'p1',
    agent: 'claude',
    session_id: 'abc',
    state: 'needs_input',
    previous: 'working',
    since: '2026-01-02T03:04:05Z',
    source: 'hooks',
    reason: 'permission',
    working_seconds: 42.5
  };

  it('reads the change and plans a patch', () => {
    const event = parseEvent(emit(body))!;
    assert.equal(event.action, 'agent_state');
    assert.deepEqual(event.agent, {
      spaceId: 's1',
      paneId: 'p1',
      state: 'needs_input',
      previous: 'working',
      since: '2026-01-02T03:04:05Z',
      source: 'hooks',
      reason: 'permission',
      workingSeconds: 42.5,
      agentName: 'claude',
      sessionId: 'abc'
    });
    assert.equal(planFor(event), 'agent');
  });

  it('takes a first state (previous null) and missing optional fields', () => {
    const event = parseEvent(emit({ action: 'agent_state', space_id: 's', pane_id: 'p', state: 'starting', previous: null }))!;
    assert.equal(event.agent?.previous, null);
    assert.equal(event.agent?.workingSeconds, 0);
    assert.equal(event.agent?.reason, null);
  });

  it('fetches instead of patching a state outside the list or without a pane', () => {
    for (const bad of [{ state: 'sleeping' }, { state: 'working', pane_id: undefined }, { state: 7 }]) {
      const event = parseEvent(emit({ ...body, ...bad }))!;
      assert.equal(event.agent, null, JSON.stringify(bad));
      assert.equal(planFor(event), 'fetch');
    }
  });

  it('never reads a negative or non-number working time', () => {
    assert.equal(parseEvent(emit({ ...body, working_seconds: -3 }))!.agent?.workingSeconds, 0);
    assert.equal(parseEvent(emit({ ...body, working_seconds: '40' }))!.agent?.workingSeconds, 0);
  });
});
