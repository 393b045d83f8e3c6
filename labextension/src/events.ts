/**
 * The change announcements jupyter-spaces puts on jupyter-server's event bus
 * (jupyter_spaces/schema/events.json), read from `app.serviceManager.events.stream`.
 *
 * Pure: turns one emission from the bus into a typed event (or null for anybody else's event
 * or a malformed one), and says what a client holding a copy of the space must do about it.
 */

import type { AgentState, AgentStateSource } from './api';
import { isAgentState } from './agentstate';

export const EVENTS_SCHEMA_ID = 'https://events.jupyter.org/jupyter_spaces/spaces/v1';

export type SpacesAction =
  | 'space_created'
  | 'space_updated'
  | 'space_deleted'
  | 'pane_created'
  | 'pane_updated'
  | 'pane_deleted'
  | 'pane_state'
  | 'agent_state';

const ACTIONS: ReadonlySet<string> = new Set<SpacesAction>([
  'space_created',
  'space_updated',
  'space_deleted',
  'pane_created',
  'pane_updated',
  'pane_deleted',
  'pane_state',
  'agent_state'
]);

export interface ISpacesEvent {
  action: SpacesAction;
  spaceId: string;
  paneId: string | null;
  state: string | null;
  exitCode: number | null;
  /** With action "agent_state" and a well-formed body: the change; null otherwise. */
  agent: IAgentStateChange | null;
}

/** One change of an agent pane's state (event action "agent_state", events schema v2). */
export interface IAgentStateChange {
  spaceId: string;
  paneId: string;
  state: AgentState;
  /** The state before; null on the pane's first one. */
  previous: AgentState | null;
  /** ISO time of the change; with the state, what makes one change different from another. */
  since: string;
  source: AgentStateSource | null;
  reason: string | null;
  /** How long the pane was "working" just before this change (0 if it was not). */
  workingSeconds: number;
  /** The agent CLI ("claude", "codex", "gemini", "custom"), if the event says. */
  agentName: string | null;
  sessionId: string | null;
}

const SOURCES: ReadonlySet<string> = new Set<AgentStateSource>(['hooks', 'transcript', 'heuristic']);

/** The agent state change in a raw event body, or null if it is not a well-formed one. */
function agentChange(e: Record<string, unknown>): IAgentStateChange | null {
  if (e.action !== 'agent_state' || typeof e.space_id !== 'string' || typeof e.pane_id !== 'string' || !isAgentState(e.state)) {
    return null;
  }
  const working = typeof e.working_seconds === 'number' && Number.isFinite(e.working_seconds) ? Math.max(0, e.working_seconds) : 0;
  return {
    spaceId: e.space_id,
    paneId: e.pane_id,
    state: e.state,
    previous: isAgentState(e.previous) ? e.previous : null,
    since: typeof e.since === 'string' ? e.since : '',
    source: typeof e.source === 'string' && SOURCES.has(e.source) ? (e.source as AgentStateSource) : null,
    reason: typeof e.reason === 'string' && e.reason !== '' ? e.reason : null,
    workingSeconds: working,
    agentName: typeof e.agent === 'string' ? e.agent : null,
    sessionId: typeof e.session_id === 'string' ? e.session_id : null
  };
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
    exitCode: typeof e.exit_code === 'number' ? e.exit_code : null,
    agent: agentChange(e)
  };
}

/**
 * What a client must do to stay current after `event`:
 * - `remove`: the space is gone, drop it;
 * - `state`: only a pane's run state changed and the event carries it, patch it in place
 *   (these come every few seconds from the server's poll, a fetch each would be wasteful);
 * - `agent`: an agent pane's state changed and the event carries it: patch it in place at once
 *   (badges, counts and notifications follow without a round trip), then fetch the space for
 *   the rest of the pane (its last output, foreground program);
 * - `fetch`: anything else changed (layout, panes, names), fetch the space again.
 */
export type EventPlan = 'remove' | 'state' | 'agent' | 'fetch';

export function planFor(event: ISpacesEvent): EventPlan {
  if (event.action === 'space_deleted') {
    return 'remove';
  }
  if (event.action === 'pane_state' && event.paneId !== null && event.state !== null) {
    return 'state';
  }
  if (event.action === 'agent_state' && event.agent !== null) {
    return 'agent';
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
