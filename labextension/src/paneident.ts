/**
 * How panes and agent CLIs are named on screen (pure: no DOM, no JupyterLab; unit-tested in
 * test/paneident.test.ts).
 *
 * - A pane's title follows its foreground program, as tmux's automatic-rename and VS Code's
 *   terminal tabs do, until the user renames it: four shells running top, vim, a server and
 *   nothing read "top", "vim", "python3", "shell". An agent pane shows its conversation's title
 *   once the session index knows it.
 * - An agent CLI that is not installed is offered greyed, with the command that installs it.
 */

import type { IAgentCli, IPane } from './api';

/** Programs that are "just the shell": a pane running one of these is at its prompt. */
const SHELLS = new Set(['bash', 'sh', 'zsh', 'fish', 'dash', 'ksh', 'tcsh', 'csh', 'ash', 'mksh', 'nu', 'elvish', 'xonsh', 'pwsh', 'login']);

/** Whether `program` (tmux's pane_current_command) is a shell at its prompt. */
export function isShellProgram(program: string | null | undefined): boolean {
  if (!program) {
    return true;
  }
  const base = program.replace(/^-/, '').split('/').pop() ?? program;
  return SHELLS.has(base);
}

/** The names a pane gets when nobody chose one: its kind, or its agent's short name. */
function defaultTitles(pane: Pick<IPane, 'kind' | 'agent' | 'argv'>): string[] {
  const out = ['', pane.kind];
  if (pane.agent) {
    out.push(pane.agent);
  }
  return out;
}

/** Whether the pane carries a title the user (or the magic, or a command) chose. */
export function hasOwnTitle(pane: Pick<IPane, 'kind' | 'agent' | 'argv' | 'title'>): boolean {
  return !defaultTitles(pane).includes(pane.title ?? '');
}

export interface IPaneName {
  /** What the header and the sidebar show. */
  title: string;
  /** Where it came from: the user, the foreground program, the agent's session, or the kind. */
  source: 'user' | 'program' | 'session' | 'kind';
}

/**
 * The name to show for a pane: its own title if someone chose one; else, for a shell, the
 * program in its foreground (when that is not the shell itself); for an agent, its session's
 * title when known; else the kind ("shell", "Claude Code").
 */
export function paneName(
  pane: Pick<IPane, 'kind' | 'agent' | 'argv' | 'title' | 'foreground' | 'state'>,
  kindLabel: string,
  sessionTitle: string | null = null
): IPaneName {
  if (hasOwnTitle(pane)) {
    return { title: pane.title, source: 'user' };
  }
  if (pane.kind === 'agent' && sessionTitle) {
    return { title: sessionTitle.length > 60 ? `${sessionTitle.slice(0, 59)}…` : sessionTitle, source: 'session' };
  }
  if (pane.kind === 'shell' && pane.state === 'running' && !isShellProgram(pane.foreground)) {
    return { title: pane.foreground!, source: 'program' };
  }
  return { title: kindLabel, source: 'kind' };
}

/** Whether an agent CLI can be started, and if not, why (with the install command). */
export function agentAvailability(
  clis: readonly IAgentCli[] | null,
  agent: string
): { installed: boolean; reason: string | null; hint: string | null } {
  const cli = clis?.find(c => c.agent === agent);
  if (cli === undefined) {
    // An older server, or not listed yet: offer it, the server says if it is missing.
    return { installed: true, reason: null, hint: null };
  }
  if (cli.installed) {
    return { installed: true, reason: null, hint: cli.install_hint };
  }
  const hint = cli.install_hint;
  return {
    installed: false,
    hint,
    reason: hint
      ? `${cli.name} is not installed on the server. Install it with: ${hint}`
      : `${cli.name} is not installed on the server (no ${cli.agent} on its PATH).`
  };
}

/**
 * A folder typed by a person, as the server wants it: relative to the server's root, without
 * leading "./" or "/" or trailing slashes. Returns null for a path that leaves the root ("..").
 */
export function normalizeFolder(typed: string): string | null {
  const parts: string[] = [];
  for (const part of typed.trim().replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') {
      continue;
    }
    if (part === '..') {
      if (parts.length === 0) {
        return null;
      }
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return parts.join('/');
}
