/**
 * The agent state badge ("working", "needs input", ...) and the activity line of shell and
 * command panes ("make · 12s"), as DOM, for the pane headers and the sidebar.
 *
 * Stable hooks: `.jp-Spaces-agentState[data-agent-state]`, `.jp-Spaces-paneActivity`,
 * `.jp-Spaces-needsInput[data-count]`.
 */

import type { IPane } from './api';
import { activityText, agentStateLabel, agentStateOf, agentStateTooltip } from './agentstate';
import type { ITrans } from './sessionutils';
import { formatTimestamp } from './sessionutils';

export function createAgentBadge(): HTMLSpanElement {
  const badge = document.createElement('span');
  badge.className = 'jp-Spaces-agentState';
  badge.hidden = true;
  return badge;
}

/** Show the pane's agent state on `badge` (hidden when the pane has none). Returns the state. */
export function renderAgentBadge(badge: HTMLElement, pane: IPane, trans: ITrans, now = Date.now()): string | null {
  const state = agentStateOf(pane);
  badge.hidden = state === null;
  if (state === null) {
    delete badge.dataset.agentState;
    badge.textContent = '';
    badge.title = '';
    badge.removeAttribute('aria-label');
    return null;
  }
  badge.dataset.agentState = state;
  badge.textContent = agentStateLabel(state, trans);
  badge.title = agentStateTooltip(pane, now, trans);
  badge.setAttribute('aria-label', trans.__('Agent state: %1', badge.textContent));
  return state;
}

export function createActivity(): HTMLSpanElement {
  const node = document.createElement('span');
  node.className = 'jp-Spaces-paneActivity';
  node.hidden = true;
  return node;
}

/**
 * The foreground program and the age of the last output of a running shell or command pane
 * (hidden for agent panes, whose badge says more, and for panes that do not run).
 */
export function renderActivity(
  node: HTMLElement,
  pane: IPane,
  trans: ITrans,
  now = Date.now(),
  lastOutputMs: number | null = null
): void {
  const text = pane.kind === 'agent' || pane.state !== 'running' ? '' : activityText(pane, now, lastOutputMs);
  node.hidden = text === '';
  node.textContent = text;
  const lines: string[] = [];
  if (text !== '' && pane.foreground) {
    lines.push(trans.__('In the foreground: %1', pane.foreground));
  }
  const server = pane.last_output ? Date.parse(pane.last_output) : NaN;
  const last = Math.max(Number.isNaN(server) ? -Infinity : server, lastOutputMs ?? -Infinity);
  if (text !== '' && Number.isFinite(last)) {
    lines.push(trans.__('Last output: %1', formatTimestamp(last / 1000)));
  }
  node.title = lines.join('\n');
}

/** The sidebar's count of a space's panes that need the user (null when none do). */
export function needsInputBadge(count: number, trans: ITrans): HTMLSpanElement | null {
  if (count <= 0) {
    return null;
  }
  const badge = document.createElement('span');
  badge.className = 'jp-Spaces-needsInput';
  badge.dataset.count = String(count);
  badge.textContent = String(count);
  const text = trans._n('%1 pane needs you', '%1 panes need you', count);
  badge.title = text;
  badge.setAttribute('aria-label', text);
  return badge;
}
