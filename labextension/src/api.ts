/**
 * Typed client for the jupyter-spaces REST API (jupyter_spaces/schema/openapi.yaml).
 *
 * Requests go through ServerConnection, so they carry JupyterLab's token / XSRF handling, and
 * a refused request rejects with a ServerConnection.ResponseError whose `message` is the
 * server's own sentence ("the folder already has a space ..."), ready to show to a person.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { LayoutNode } from './layout';
import { resumeRefusal, sessionQueryString } from './sessionutils';
import { pruneQueryString, restoreRefusal } from './snapshotutils';

export type PaneKind = 'shell' | 'command' | 'agent';
/** The agent CLIs the server knows; agent panes may also be 'custom' (an argv of one's own). */
export type AgentName = 'claude' | 'codex' | 'gemini';
export type PaneState = 'running' | 'exited' | 'gone';
/** What an agent pane's agent is doing (issue 13); null on shell and command panes. */
export type AgentState = 'starting' | 'working' | 'needs_input' | 'idle' | 'exited';
/** Where the server learned the agent state from: the CLI's hooks, its transcript, or a guess. */
export type AgentStateSource = 'hooks' | 'transcript' | 'heuristic';
export type SpaceStatus = 'ok' | 'broken' | 'newer' | 'missing';

export interface IPane {
  id: string;
  space_id: string;
  kind: PaneKind;
  title: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  created: string;
  last_active: string;
  state: PaneState;
  exit_code: number | null;
  exit_signal: string | null;
  pid: number | null;
  rows: number | null;
  cols: number | null;
  /** For agent panes: "claude", "codex", "gemini" or "custom"; null for shells and commands. */
  agent: string | null;
  /** The agent conversation the pane holds; null until known (Codex ids come a moment late). */
  session_id: string | null;
  /**
   * Command panes: run again by themselves after a machine restart instead of waiting for
   * Enter. The server leaves the field out when false.
   */
  autorestart?: boolean;
  /** How the pane is started again (what a cold restore or a trust really runs). */
  launch?: IPaneLaunch;
  /** ISO time of the pane's last output (tmux window_activity); missing from older servers. */
  last_output?: string | null;
  /** The program in the pane's foreground, as tmux names it ("bash", "make"). */
  foreground?: string | null;
  /** Agent panes: what the agent is doing; null (or missing) on other panes. */
  agent_state?: AgentState | null;
  /** ISO time of the last agent state change. */
  agent_state_since?: string | null;
  agent_state_source?: AgentStateSource | null;
  /** A short machine word for why: "permission", "question", "login", "idle_prompt", ... */
  agent_state_reason?: string | null;
}

/** A pane's launch profile from the workspace file. */
export interface IPaneLaunch {
  argv: string[];
  env?: Record<string, string>;
  model?: string;
  args?: string[];
  resume?: string[];
}

/** What one pane runs, as the server computes it (GET /api/spaces/{space}/plan). */
export interface IRunPlan {
  pane_id: string;
  kind: string;
  /** The program and its arguments after every template is filled. */
  argv: string[];
  /** Variables added to the server's environment. */
  env: Record<string, string>;
  /** The working directory, relative to the server's root ("" for the root). */
  cwd: string;
  waits_for_enter: boolean;
  /** A file whose text is shown first, as plain text (relative to the space's folder). */
  prints: string | null;
  notice: string;
  /** The shell that takes over when an agent ends. */
  then_shell: string | null;
  session_id: string | null;
  /** The pane runs now: not started, but this is what it runs when started again. */
  running: boolean;
}

export interface ISpacePlan {
  space_id: string;
  trusted: boolean;
  /** The id space.json carries when this folder is a copy of another folder's space. */
  copy_of: string | null;
  /** The digest a trust names. */
  plan_sha256: string;
  plans: IRunPlan[];
  running: string[];
}

export interface ISpace {
  id: string;
  name: string;
  path: string;
  status: SpaceStatus;
  message: string | null;
  read_only: boolean;
  /**
   * False when the workspace file was not written by this user's server (it came with the
   * folder, or was edited): nothing in it runs, changes are refused, until it is trusted.
   */
  trusted: boolean;
  /** SHA-256 of the workspace file's bytes, so a trust is given to exactly what was shown. */
  file_sha256: string | null;
  created: string | null;
  layout: LayoutNode | null;
  panes: IPane[];
  /** How many of its panes have agent_state "needs_input" (missing from older servers). */
  needs_input?: number;
}

export interface IHost {
  durable: boolean;
  tmux: string | null;
  message: string | null;
  unknown_sessions: string[];
}

/** An agent CLI the server can start, and whether it is on the PATH panes get. */
export interface IAgentCli {
  agent: AgentName;
  /** How people call it: "Claude Code", "Codex CLI", "Gemini CLI". */
  name: string;
  installed: boolean;
  path: string | null;
  /** The command that installs it. */
  install_hint: string | null;
}

export interface ISpaceList {
  spaces: ISpace[];
  host: IHost;
  /** Missing from older servers: then every agent is offered, and the server says if it is missing. */
  agents?: IAgentCli[];
}

export interface INewPane {
  kind?: PaneKind;
  /** kind "agent": which CLI ("custom" needs `argv`, and `resume` to be resumable). */
  agent?: AgentName | 'custom';
  /** kind "agent": extra flags for the agent CLI. */
  args?: string[];
  /** kind "agent": the model to ask the CLI for. */
  model?: string;
  /** kind "agent", agent "custom": how to resume, "{session_id}" standing for the id. */
  resume?: string[];
  session_id?: string;
  argv?: string[];
  cwd?: string;
  title?: string;
  env?: Record<string, string>;
  rows?: number;
  cols?: number;
  /** Split this pane's cell in the layout... */
  next_to?: string;
  /** ...side by side ("row") or one above the other ("column"). */
  direction?: 'row' | 'column';
}

export interface ISpacePatch {
  name?: string;
  layout?: LayoutNode | null;
}

export interface ISessionTokens {
  input: number;
  output: number;
  cache_read: number;
  cache_creation: number;
  reasoning: number;
  total: number;
}

/** One agent conversation from the server's index (jupyter_spaces/agents). */
export interface ISession {
  agent: string;
  id: string;
  title: string | null;
  title_source: string | null;
  /** Absolute path on the server machine. */
  cwd: string | null;
  /** `cwd` relative to the server root ("" is the root); null when outside it. */
  path: string | null;
  /** The space whose folder holds `cwd` (the deepest one), if any. */
  space_id: string | null;
  started: string | null;
  last_activity: string | null;
  first_prompt: string | null;
  models: string[];
  message_count: number;
  tokens: ISessionTokens;
  is_subagent: boolean;
  parent_id: string | null;
  resumable: boolean;
  /** Why not resumable; for a resumable session, possibly a caveat. */
  resume_reason: string | null;
  resume_argv: string[] | null;
  resume_cwd: string | null;
  /** The transcript was deleted (the CLIs prune old ones); the session is still listed. */
  gone: boolean;
  files: string[];
  format: string;
  version: string | null;
  git_branch: string | null;
  meta: Record<string, unknown>;
  /** With a search only: HTML-escaped text, the matches wrapped in <mark>…</mark>. */
  snippet?: string | null;
  matches?: number | null;
}

export interface ISessionQuery {
  /** Full text, plain words. */
  q?: string;
  agent?: string;
  /** A space id: sessions whose folder is inside that space's folder. */
  space?: string;
  /** A folder relative to the server root: sessions in exactly that folder. */
  cwd?: string;
  /** ISO-8601 or POSIX seconds; bounds last_activity. */
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
  order?: 'relevance' | 'recent';
  subagents?: boolean;
}

export interface ISessionList {
  sessions: ISession[];
  limit: number;
  offset: number;
  /** The first scan after the server started is still running. */
  indexing: boolean;
}

export interface ISessionMessage {
  role: string;
  kind: 'user' | 'assistant' | 'tool_call' | 'tool_result' | 'summary' | 'harness' | 'info' | string;
  text: string;
  time: string | null;
}

export interface ISessionMessages {
  messages: ISessionMessage[];
  limit: number;
  offset: number;
}

export interface IResumeOptions {
  space_id?: string;
  /** Start a new conversation in the session's folder (its transcript was deleted). */
  fresh?: boolean;
  title?: string;
  next_to?: string;
  direction?: 'row' | 'column';
  rows?: number;
  cols?: number;
}

/** Why the server would not resume a session (HTTP 409 and its body). */
export interface IResumeRefusal {
  status: number;
  /** "no_space", "outside_root", "gone", "not_resumable", "missing_cli", or another code. */
  reason: string | null;
  message: string;
  /** With "no_space" and "gone": the folder (relative to the server root). */
  path: string | null;
  /** With "already_open": where the session runs now. */
  space_id: string | null;
  pane_id: string | null;
}

export type ResumeResult = { ok: true; pane: IPane } | ({ ok: false } & IResumeRefusal);

/** A pane as a snapshot recorded it. */
export interface ISnapshotPane {
  id: string;
  title: string;
  kind: PaneKind;
  agent: string | null;
  session_id: string | null;
  /** Size of the saved screen text. */
  screen_bytes: number;
  /** A copy of the agent's transcript is in the snapshot. */
  transcript: boolean;
}

/** A saved copy of a space: its workspace file, its panes' screens, its agents' transcripts. */
export interface ISnapshot {
  /** "20261124-071530-3fa2": UTC time and a random part; sorts by time. */
  id: string;
  /** The user's label ("" when none was given). */
  name: string;
  created: string;
  space_id: string;
  space_name: string;
  panes: ISnapshotPane[];
  /** Size on disk. */
  bytes: number;
  /** Transcripts the panes referred to that were not found when the snapshot was taken. */
  missing_transcripts: Array<{ agent: string; session_id: string }>;
  /** GET of one snapshot only: the layout it holds. */
  layout?: LayoutNode | null;
}

export interface ISnapshotList {
  snapshots: ISnapshot[];
}

export interface IPruneResult {
  deleted: string[];
  kept: string[];
}

/** Why the server would not restore a snapshot (HTTP 409 and its body). */
export interface IRestoreRefusal {
  status: number;
  /** "running" (send stop_running: true to go on), "newer", "untrusted", or another code. */
  reason: string | null;
  message: string;
  /** With "running": the panes that would be stopped. */
  panes: string[];
}

export type RestoreResult = { ok: true; space: ISpace } | ({ ok: false } & IRestoreRefusal);

const BASE = 'api/spaces';

export class SpacesAPI {
  constructor(readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  list(): Promise<ISpaceList> {
    return this._request<ISpaceList>('GET', []);
  }

  createSpace(path: string, name?: string): Promise<ISpace> {
    return this._request<ISpace>('POST', [], name ? { path, name } : { path });
  }

  getSpace(spaceId: string): Promise<ISpace> {
    return this._request<ISpace>('GET', [spaceId]);
  }

  patchSpace(spaceId: string, patch: ISpacePatch): Promise<ISpace> {
    return this._request<ISpace>('PATCH', [spaceId], patch);
  }

  async deleteSpace(spaceId: string, removeFiles = false): Promise<void> {
    await this._request<void>('DELETE', [spaceId], undefined, removeFiles ? '?remove_files=true' : '');
  }

  createPane(spaceId: string, pane: INewPane): Promise<IPane> {
    return this._request<IPane>('POST', [spaceId, 'panes'], pane);
  }

  getPane(spaceId: string, paneId: string): Promise<IPane> {
    return this._request<IPane>('GET', [spaceId, 'panes', paneId]);
  }

  patchPane(spaceId: string, paneId: string, patch: { title?: string; autorestart?: boolean }): Promise<IPane> {
    return this._request<IPane>('PATCH', [spaceId, 'panes', paneId], patch);
  }

  async deletePane(spaceId: string, paneId: string): Promise<void> {
    await this._request<void>('DELETE', [spaceId, 'panes', paneId]);
  }

  restartPane(spaceId: string, paneId: string): Promise<IPane> {
    return this._request<IPane>('POST', [spaceId, 'panes', paneId, 'restart']);
  }

  /** What trusting (or restoring) the space would run, exactly as the server would run it. */
  getPlan(spaceId: string): Promise<ISpacePlan> {
    return this._request<ISpacePlan>('GET', [spaceId, 'plan']);
  }

  /**
   * Trust the space's workspace file and start the plan that was shown: `planSha256` is the
   * `plan_sha256` of that plan, and the server refuses (409 "changed") if what would run
   * changed since.
   */
  trustSpace(spaceId: string, planSha256: string): Promise<ISpace> {
    return this._request<ISpace>('POST', [spaceId, 'trust'], { plan_sha256: planSha256 });
  }

  /** The space's snapshots, newest first. */
  async listSnapshots(spaceId: string): Promise<ISnapshot[]> {
    const list = await this._request<ISnapshotList>('GET', [spaceId, 'snapshots']);
    return Array.isArray(list?.snapshots) ? list.snapshots : [];
  }

  createSnapshot(spaceId: string, name?: string): Promise<ISnapshot> {
    return this._request<ISnapshot>('POST', [spaceId, 'snapshots'], name ? { name } : {});
  }

  getSnapshot(spaceId: string, snapshotId: string): Promise<ISnapshot> {
    return this._request<ISnapshot>('GET', [spaceId, 'snapshots', snapshotId]);
  }

  async deleteSnapshot(spaceId: string, snapshotId: string): Promise<void> {
    await this._request<void>('DELETE', [spaceId, 'snapshots', snapshotId]);
  }

  /** Delete all but the newest `keep` snapshots and/or those older than `olderThanDays`. */
  pruneSnapshots(spaceId: string, options: { keep?: number; olderThanDays?: number }): Promise<IPruneResult> {
    return this._request<IPruneResult>('DELETE', [spaceId, 'snapshots'], undefined, pruneQueryString(options));
  }

  /**
   * Put the space back as the snapshot has it. A refusal the user can act on (409: panes are
   * running, ask and send `stopRunning`) resolves as `{ok: false, reason, ...}`, as
   * resumeSession does; other failures (a corrupt or unknown snapshot) reject.
   */
  async restoreSnapshot(spaceId: string, snapshotId: string, stopRunning = false): Promise<RestoreResult> {
    const response = await this._send(
      'POST',
      [spaceId, 'snapshots', snapshotId, 'restore'],
      stopRunning ? { stop_running: true } : {}
    );
    if (response.ok) {
      return { ok: true, space: (await response.json()) as ISpace };
    }
    if (response.status === 409) {
      const body = await response.json().catch(() => null);
      return { ok: false, ...restoreRefusal(response.status, body) };
    }
    throw await ServerConnection.ResponseError.create(response);
  }

  /** Agent sessions from the server's index, newest first or by relevance to `q`. */
  listSessions(query: ISessionQuery = {}): Promise<ISessionList> {
    return this._request<ISessionList>('GET', ['sessions'], undefined, sessionQueryString(query));
  }

  getSession(agent: string, id: string): Promise<ISession> {
    return this._request<ISession>('GET', ['sessions', agent, id]);
  }

  sessionMessages(agent: string, id: string, options: { limit?: number; offset?: number } = {}): Promise<ISessionMessages> {
    const params: string[] = [];
    if (options.limit !== undefined) {
      params.push(`limit=${Math.max(0, Math.floor(options.limit))}`);
    }
    if (options.offset !== undefined) {
      params.push(`offset=${Math.max(0, Math.floor(options.offset))}`);
    }
    return this._request<ISessionMessages>(
      'GET',
      ['sessions', agent, id, 'messages'],
      undefined,
      params.length ? `?${params.join('&')}` : ''
    );
  }

  /**
   * Resume a session as an agent pane in its space. A refusal the user can act on (409: no
   * space for the folder, the transcript is gone, ...) resolves as `{ok: false, reason, ...}`
   * instead of rejecting, so the caller can ask and try again; other failures reject.
   */
  async resumeSession(agent: string, id: string, options: IResumeOptions = {}): Promise<ResumeResult> {
    const response = await this._send('POST', ['sessions', agent, id, 'resume'], options);
    if (response.ok) {
      return { ok: true, pane: (await response.json()) as IPane };
    }
    if (response.status === 409) {
      const body = await response.json().catch(() => null);
      return { ok: false, ...resumeRefusal(response.status, body) };
    }
    throw await ServerConnection.ResponseError.create(response);
  }

  /**
   * The WebSocket URL of a pane's live channel. `history` asks for that many lines of
   * scrollback in the redraw (null: the server's default, SpacesApp.attach_history).
   */
  channelUrl(spaceId: string, paneId: string, history: number | null): string {
    const s = this.serverSettings;
    const params: string[] = [];
    if (history !== null) {
      params.push(`history=${Math.max(0, Math.floor(history))}`);
    }
    // Browsers cannot set headers on a WebSocket; like JupyterLab's own terminal client we
    // put the token in the query when the settings say so (cookies cover the usual case).
    if (s.appendToken && s.token !== '') {
      params.push(`token=${encodeURIComponent(s.token)}`);
    }
    const url = URLExt.join(
      s.wsUrl,
      BASE,
      encodeURIComponent(spaceId),
      'panes',
      encodeURIComponent(paneId),
      'channel'
    );
    return params.length ? `${url}?${params.join('&')}` : url;
  }

  private async _request<T>(
    method: string,
    parts: string[],
    body?: unknown,
    query = ''
  ): Promise<T> {
    const response = await this._send(method, parts, body, query);
    if (!response.ok) {
      // Reads the server's {"message": ...} so the dialog says what is wrong.
      throw await ServerConnection.ResponseError.create(response);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    return (await response.json()) as T;
  }

  private async _send(method: string, parts: string[], body?: unknown, query = ''): Promise<Response> {
    const url =
      URLExt.join(this.serverSettings.baseUrl, BASE, ...parts.map(p => encodeURIComponent(p))) + query;
    const init: RequestInit = { method };
    if (query !== '' || parts[1] === 'snapshots') {
      // With the default cache: 'no-store', ServerConnection appends a bare "&<time>" to the
      // URL as a cache buster, which the server refuses as an unknown parameter where it
      // checks them (the sessions and snapshots routes). "no-cache" revalidates every time
      // instead.
      init.cache = 'no-cache';
    }
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    // A network failure rejects here already, as a ServerConnection.NetworkError.
    return ServerConnection.makeRequest(url, init, this.serverSettings);
  }
}
