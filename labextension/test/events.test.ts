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
      exitCode: 3
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
