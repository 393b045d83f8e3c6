/**
 * The change announcements jupyter-spaces puts on jupyter-server's event bus
 * (jupyter_spaces/schema/events.json), read from `app.serviceManager.events.stream`.
 *
 * Pure: turns one emission from the bus into a typed event (or null for anybody else's event
 * or a malformed one), and says what a client holding a copy of the space must do about it.
 */

export const EVENTS_SCHEMA_ID = 'https://events.jupyter.org/jupyter_spaces/spaces/v1';

export type SpacesAction =
  | 'space_created'
  | 'space_updated'
  | 'space_deleted'
  | 'pane_created'
  | 'pane_updated'
  | 'pane_deleted'
  | 'pane_state';

const ACTIONS: ReadonlySet<string> = new Set<SpacesAction>([
  'space_created',
  'space_updated',
  'space_deleted',
  'pane_created',
  'pane_updated',
  'pane_deleted',
  'pane_state'
]);

export interface ISpacesEvent {
  action: SpacesAction;
  spaceId: string;
  paneId: string | null;
  state: string | null;
  exitCode: number | null;
}

/** The event in `emission`, or null if it is not a well-formed jupyter-spaces event. */
export function parseEvent(emission: unknown): ISpacesEvent | null {
  if (typeof emission !== 'object' || emission === null) {
    return null;
  }
  const e = emission as Record<string, unknown>;
  if (e.schema_id !== EVENTS_SCHEMA_ID) {
    return null;
  }
  if (typeof e.action !== 'string' || !ACTIONS.has(e.action) || typeof e.space_id !== 'string') {
    return null;
  }
  return {
    action: e.action as SpacesAction,
    spaceId: e.space_id,
    paneId: typeof e.pane_id === 'string' ? e.pane_id : null,
    state: typeof e.state === 'string' ? e.state : null,
    exitCode: typeof e.exit_code === 'number' ? e.exit_code : null
  };
}

/**
 * What a client must do to stay current after `event`:
 * - `remove`: the space is gone, drop it;
 * - `state`: only a pane's run state changed and the event carries it, patch it in place
 *   (these come every few seconds from the server's poll, a fetch each would be wasteful);
 * - `fetch`: anything else changed (layout, panes, names), fetch the space again.
 */
export type EventPlan = 'remove' | 'state' | 'fetch';

export function planFor(event: ISpacesEvent): EventPlan {
  if (event.action === 'space_deleted') {
    return 'remove';
  }
  if (event.action === 'pane_state' && event.paneId !== null && event.state !== null) {
    return 'state';
  }
  return 'fetch';
}

/**
 * The index of agent sessions took in new or changed sessions: `{"action": "sessions_changed",
 * "count": n}` (no space in it, so parseEvent leaves it out). Returns the count (0 when the
 * event does not say), or null for any other emission.
 */
export function parseSessionsChanged(emission: unknown): number | null {
  if (typeof emission !== 'object' || emission === null) {
    return null;
  }
  const e = emission as Record<string, unknown>;
  if (e.schema_id !== EVENTS_SCHEMA_ID || e.action !== 'sessions_changed') {
    return null;
  }
  return typeof e.count === 'number' && Number.isFinite(e.count) ? e.count : 0;
}
