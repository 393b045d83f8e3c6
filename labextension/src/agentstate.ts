/**
 * Agent state as the front end shows it (issue 13): the five states, their words, how many
 * panes need the user, and the subtle activity line of shell and command panes.
 *
 * Pure: no DOM, no JupyterLab; the pane header, the sidebar and the notifications share it.
 */

import type { AgentState, IPane } from './api';
import type { ITrans } from './sessionutils';
import { englishTrans, parseTime } from './sessionutils';

export const AGENT_STATES: readonly AgentState[] = ['starting', 'working', 'needs_input', 'idle', 'exited'];

export function isAgentState(value: unknown): value is AgentState {
  return typeof value === 'string' && (AGENT_STATES as readonly string[]).includes(value);
}

/** The pane's agent state, or null for a pane that has none (a shell, an older server). */
export function agentStateOf(pane: Pick<IPane, 'kind' | 'agent_state'>): AgentState | null {
  return pane.kind === 'agent' && isAgentState(pane.agent_state) ? pane.agent_state : null;
}

/** The badge's word: "starting", "working", "needs input", "idle", "exited". */
export function agentStateLabel(state: AgentState, trans: ITrans = englishTrans): string {
  switch (state) {
    case 'starting':
      return trans.__('starting');
    case 'working':
      return trans.__('working');
    case 'needs_input':
      return trans.__('needs input');
    case 'idle':
      return trans.__('idle');
    case 'exited':
      return trans.__('exited');
  }
}

/** Why an agent waits for the user, in words ("" when the reason is unknown or not one of these). */
export function reasonText(reason: string | null | undefined, trans: ITrans = englishTrans): string {
  switch (reason) {
    case 'permission':
      return trans.__('asks for permission');
    case 'question':
      return trans.__('asked a question');
    case 'login':
      return trans.__('needs you to log in');
    case 'trust':
      return trans.__('asks whether to trust the folder');
    case 'idle_prompt':
      return trans.__('waits at its prompt');
    default:
      return '';
  }
}

/** Seconds as a short duration: "12 s", "4 min", "2 h 5 min", "3 days". */
export function formatDuration(seconds: number, trans: ITrans = englishTrans): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.round(seconds)) : 0;
  if (s < 60) {
    return trans.__('%1 s', s);
  }
  const minutes = Math.floor(s / 60);
  if (minutes < 60) {
    return trans.__('%1 min', minutes);
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest > 0 ? trans.__('%1 h %2 min', hours, rest) : trans.__('%1 h', hours);
  }
  return trans._n('%1 day', '%1 days', Math.floor(hours / 24));
}

/** Seconds from `value` (ISO or POSIX seconds) to `now` (ms), never negative; null without a time. */
export function secondsSince(value: string | number | null | undefined, now: number = Date.now()): number | null {
  const t = parseTime(value);
  return t === null ? null : Math.max(0, (now - t) / 1000);
}

/** The badge's tooltip: "needs input for 3 min (asks for permission)\nfrom Claude Code's hooks". */
export function agentStateTooltip(
  pane: Pick<IPane, 'kind' | 'agent_state' | 'agent_state_since' | 'agent_state_source' | 'agent_state_reason'>,
  now: number = Date.now(),
  trans: ITrans = englishTrans
): string {
  const state = agentStateOf(pane);
  if (state === null) {
    return '';
  }
  const age = secondsSince(pane.agent_state_since, now);
  const reason = reasonText(pane.agent_state_reason, trans);
  let head = age === null ? agentStateLabel(state, trans) : trans.__('%1 for %2', agentStateLabel(state, trans), formatDuration(age, trans));
  if (reason) {
    head += ` (${reason})`;
  }
  const source =
    pane.agent_state_source === 'hooks'
      ? trans.__("from the agent's hooks")
      : pane.agent_state_source === 'transcript'
        ? trans.__("from the agent's transcript")
        : pane.agent_state_source === 'heuristic'
          ? trans.__("guessed from the pane's output")
          : '';
  return source ? `${head}\n${source}` : head;
}

type PaneStates = { panes: ReadonlyArray<Pick<IPane, 'kind' | 'agent_state'>> };

/** Panes of `space` whose agent needs the user now. */
export function needsInputCount(space: PaneStates): number {
  return space.panes.filter(p => agentStateOf(p) === 'needs_input').length;
}

/** Panes of all `spaces` whose agent needs the user now. */
export function totalNeedsInput(spaces: Iterable<PaneStates>): number {
  let n = 0;
  for (const space of spaces) {
    n += needsInputCount(space);
  }
  return n;
}

/** How long ago a pane last printed, as short as fits a header: "now", "12s", "4m", "2h", "3d". */
export function formatAge(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  if (s < 5) {
    return 'now';
  }
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)}h`;
  }
  return `${Math.floor(s / 86400)}d`;
}

/**
 * The subtle line of a shell or command pane: the program in its foreground and how long ago it
 * last printed ("make · 12s"); "" when the server told neither. `lastOutputMs` may be later than
 * the server's `last_output` (output this browser saw since the server was last asked).
 */
export function activityText(
  pane: Pick<IPane, 'foreground' | 'last_output'>,
  now: number = Date.now(),
  lastOutputMs: number | null = null
): string {
  const parts: string[] = [];
  if (typeof pane.foreground === 'string' && pane.foreground !== '') {
    parts.push(pane.foreground);
  }
  const server = parseTime(pane.last_output);
  const last = Math.max(server ?? -Infinity, lastOutputMs ?? -Infinity);
  if (Number.isFinite(last)) {
    parts.push(formatAge((now - last) / 1000));
  }
  return parts.join(' · ');
}
