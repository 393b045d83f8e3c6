/**
 * The front end's copy of the user's spaces, kept current from the server's change
 * announcements. The sidebar and every open space view read from this one model, so they
 * never disagree with each other, and the server is asked once per change, not once per view.
 */

import type { Event } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';

import { needsInputCount } from './agentstate';
import type { IAgentCli, IHost, IPane, ISpace, PaneState, SpacesAPI } from './api';
import type { IAgentStateChange, ISpacesEvent } from './events';
import { parseEvent, planFor } from './events';

/** A space that changed (`space` is null when it was deleted or can no longer be read). */
export interface ISpaceChange {
  id: string;
  space: ISpace | null;
}

export interface ISpacesModelOptions {
  api: SpacesAPI;
  /** jupyter-server's event bus (app.serviceManager.events); without it, only polling. */
  events?: Event.IManager | null;
  /**
   * Seconds between full refreshes, a safety net for announcements missed while the event
   * socket was down (a server restart): the bus does not replay what was said meanwhile.
   */
  pollInterval?: number;
}

export class SpacesModel implements IDisposable {
  constructor(options: ISpacesModelOptions) {
    this.api = options.api;
    this._events = options.events ?? null;
    this._events?.stream.connect(this._onEmission, this);
    const interval = (options.pollInterval ?? 60) * 1000;
    if (interval > 0) {
      this._timer = window.setInterval(() => {
        if (document.visibilityState === 'visible') {
          void this.refresh();
        }
      }, interval);
    }
    // A tab coming back to the foreground may have slept through announcements.
    document.addEventListener('visibilitychange', this._onVisibility);
  }

  readonly api: SpacesAPI;

  /** Any change: a space added, removed or changed, the host status, a refresh error. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** One space changed or went away. */
  get spaceChanged(): ISignal<this, ISpaceChange> {
    return this._spaceChanged;
  }

  /**
   * Every announcement about a space, as it arrives (before the space is read again). For
   * what the space's JSON does not show: a snapshot taken or deleted is a `space_updated`
   * with the space itself unchanged.
   */
  get announced(): ISignal<this, ISpacesEvent> {
    return this._announced;
  }

  /**
   * An agent pane's state changed, as the server announced it (action `agent_state`), after the
   * model holds the new state. Only announcements: a state first seen in a full refresh (after
   * the event socket was down) changes the panes, not this.
   */
  get agentStateChanged(): ISignal<this, IAgentStateChange> {
    return this._agentStateChanged;
  }

  /** Spaces sorted by name, then folder. */
  get spaces(): ISpace[] {
    return [...this._spaces.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path)
    );
  }

  /** Whether tmux works on the server, from the last list; null before the first one. */
  get host(): IHost | null {
    return this._host;
  }

  /** The agent CLIs the server can start, from the last list; null before the first one. */
  get agents(): IAgentCli[] | null {
    return this._agents;
  }

  /** Why the last full refresh failed, or null. */
  get error(): string | null {
    return this._error;
  }

  /** Whether a full list has been read at least once. */
  get loaded(): boolean {
    return this._loaded;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  space(id: string): ISpace | undefined {
    return this._spaces.get(id);
  }

  pane(spaceId: string, paneId: string): IPane | undefined {
    return this._spaces.get(spaceId)?.panes.find(p => p.id === paneId);
  }

  /** The space bound to the folder `path` (relative to the server root), if any. */
  spaceForPath(path: string): ISpace | undefined {
    const norm = (p: string) => p.replace(/^\/+|\/+$/g, '');
    return [...this._spaces.values()].find(s => norm(s.path) === norm(path));
  }

  /**
   * An agent pane's conversation title from the session index, fetched once per session (the
   * index learns it after the first prompt: asked again while none is known, at most every 20 s).
   * Null until known; `changed` is emitted when it arrives.
   */
  sessionTitle(pane: Pick<IPane, 'kind' | 'agent' | 'session_id'>): string | null {
    if (pane.kind !== 'agent' || !pane.agent || !pane.session_id) {
      return null;
    }
    const key = `${pane.agent}/${pane.session_id}`;
    const known = this._sessionTitles.get(key);
    if (known !== undefined && (known.title !== null || Date.now() - known.asked < 20000)) {
      return known.title;
    }
    this._sessionTitles.set(key, { title: known?.title ?? null, asked: Date.now() });
    void this.api.getSession(pane.agent, pane.session_id).then(
      session => {
        const title = (session.title || session.first_prompt || '').trim().split('\n')[0] || null;
        this._sessionTitles.set(key, { title, asked: Date.now() });
        if (title !== null && !this._isDisposed) {
          this._changed.emit();
          this._spaces.forEach(space => {
            if (space.panes.some(p => p.agent === pane.agent && p.session_id === pane.session_id)) {
              this._spaceChanged.emit({ id: space.id, space });
            }
          });
        }
      },
      () => undefined
    );
    return null;
  }

  /** Read every space again. */
  async refresh(): Promise<void> {
    const seq = ++this._seq;
    try {
      const list = await this.api.list();
      if (this._isDisposed) {
        return;
      }
      this._error = null;
      this._loaded = true;
      this._host = list.host;
      this._agents = list.agents ?? this._agents;
      const seen = new Set<string>();
      for (const space of list.spaces) {
        seen.add(space.id);
        this._apply(space, seq);
      }
      for (const id of [...this._spaces.keys()]) {
        // Only drop a space this list is newer than: one created after the list was asked
        // for is legitimately missing from it.
        if (!seen.has(id) && (this._versions.get(id) ?? 0) < seq) {
          this._remove(id);
        }
      }
    } catch (error) {
      this._error = errorSentence(error);
    }
    this._changed.emit();
  }

  /** Read one space again; resolves with it, or null if it is gone. */
  async refreshSpace(id: string): Promise<ISpace | null> {
    const seq = ++this._seq;
    try {
      const space = await this.api.getSpace(id);
      if (this._apply(space, seq)) {
        // The sidebar draws from `changed`: a pane's title or state may be new.
        this._changed.emit();
      }
      if (this._error !== null) {
        // The server answers again: the sidebar's "could not list" is stale, read it all.
        void this.refresh();
      }
      return this._spaces.get(id) ?? null;
    } catch (error) {
      if ((error as { response?: Response }).response?.status === 404) {
        this._remove(id);
        return null;
      }
      throw error;
    }
  }

  /**
   * Take a space the server just returned from a change (PATCH, create): it is at least as
   * new as anything asked for before the change was sent.
   */
  update(space: ISpace): void {
    if (this._apply(space, ++this._seq)) {
      this._changed.emit();
    }
  }

  /** Forget a space this client just deleted, without waiting for the announcement. */
  forget(id: string): void {
    this._remove(id);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._events?.stream.disconnect(this._onEmission, this);
    window.clearInterval(this._timer);
    document.removeEventListener('visibilitychange', this._onVisibility);
    this._pending.forEach(t => window.clearTimeout(t));
    Signal.clearData(this);
  }

  private _onEmission(_: unknown, emission: unknown): void {
    const event = parseEvent(emission);
    if (event === null) {
      return;
    }
    this._announced.emit(event);
    switch (planFor(event)) {
      case 'remove':
        this._remove(event.spaceId);
        this._changed.emit();
        break;
      case 'state':
        if (!this._patchState(event.spaceId, event.paneId!, event.state as PaneState, event.exitCode)) {
          this._scheduleFetch(event.spaceId);
        }
        break;
      case 'agent':
        this._patchAgentState(event.agent!);
        // The rest of the pane (last output, foreground program) and the space's count.
        this._scheduleFetch(event.spaceId);
        this._agentStateChanged.emit(event.agent!);
        break;
      default:
        this._scheduleFetch(event.spaceId);
    }
  }

  /** Coalesce bursts (a split announces pane_created and then our own layout PATCH). */
  private _scheduleFetch(id: string): void {
    if (this._pending.has(id)) {
      return;
    }
    this._pending.set(
      id,
      window.setTimeout(() => {
        this._pending.delete(id);
        this.refreshSpace(id)
          .then(() => this._changed.emit())
          .catch(error => console.warn(`jupyter-spaces: could not read space ${id}`, error));
      }, 30)
    );
  }

  private _patchState(spaceId: string, paneId: string, state: PaneState, exitCode: number | null): boolean {
    const space = this._spaces.get(spaceId);
    const pane = space?.panes.find(p => p.id === paneId);
    if (space === undefined || pane === undefined) {
      return false;
    }
    if (pane.state === state && pane.exit_code === exitCode) {
      return true;
    }
    const next: ISpace = {
      ...space,
      panes: space.panes.map(p =>
        p.id === paneId
          ? { ...p, state, exit_code: state === 'exited' ? exitCode : null, pid: state === 'running' ? p.pid : null }
          : p
      )
    };
    this._spaces.set(spaceId, next);
    this._spaceChanged.emit({ id: spaceId, space: next });
    this._changed.emit();
    return true;
  }

  private _patchAgentState(change: IAgentStateChange): void {
    const space = this._spaces.get(change.spaceId);
    const pane = space?.panes.find(p => p.id === change.paneId);
    if (space === undefined || pane === undefined) {
      return;
    }
    const panes = space.panes.map(p =>
      p.id === change.paneId
        ? {
            ...p,
            agent_state: change.state,
            agent_state_since: change.since || p.agent_state_since,
            agent_state_source: change.source ?? p.agent_state_source,
            agent_state_reason: change.reason
          }
        : p
    );
    const next: ISpace = { ...space, panes, needs_input: needsInputCount({ panes }) };
    this._spaces.set(change.spaceId, next);
    // A read of the space asked for before this announcement would bring the old state back.
    this._versions.set(change.spaceId, ++this._seq);
    this._spaceChanged.emit({ id: change.spaceId, space: next });
    this._changed.emit();
  }

  /** Take a space as read; whether anything changed. */
  private _apply(space: ISpace, seq: number): boolean {
    // Responses can arrive out of order (a slow list after a fast single read): keep the copy
    // from the most recent request.
    if ((this._versions.get(space.id) ?? 0) > seq) {
      return false;
    }
    this._versions.set(space.id, seq);
    const old = this._spaces.get(space.id);
    if (old !== undefined && JSON.stringify(old) === JSON.stringify(space)) {
      return false;
    }
    this._spaces.set(space.id, space);
    this._spaceChanged.emit({ id: space.id, space });
    return true;
  }

  private _remove(id: string): void {
    if (this._spaces.delete(id)) {
      this._spaceChanged.emit({ id, space: null });
    }
    // A later stale response must not bring it back.
    this._versions.set(id, ++this._seq);
  }

  private _onVisibility = (): void => {
    if (document.visibilityState === 'visible') {
      void this.refresh();
    }
  };

  private _spaces = new Map<string, ISpace>();
  private _versions = new Map<string, number>();
  private _pending = new Map<string, number>();
  private _seq = 0;
  private _host: IHost | null = null;
  private _agents: IAgentCli[] | null = null;
  private _sessionTitles = new Map<string, { title: string | null; asked: number }>();
  private _error: string | null = null;
  private _loaded = false;
  private _events: Event.IManager | null;
  private _timer = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _spaceChanged = new Signal<this, ISpaceChange>(this);
  private _announced = new Signal<this, ISpacesEvent>(this);
  private _agentStateChanged = new Signal<this, IAgentStateChange>(this);
}

/**
 * An error as a sentence a person can act on: the browser's "Failed to fetch" (or Firefox's
 * "NetworkError when attempting to fetch resource.") means the server did not answer.
 */
export function errorSentence(error: unknown): string {
  const message = (error as Error)?.message || String(error);
  if (/failed to fetch|networkerror|load failed|network request failed/i.test(message)) {
    return 'The server did not answer. It may be restarting; the list comes back when it answers.';
  }
  // The server's sentences may quote names in Markdown backticks: show them as plain quotes.
  return message.replace(/`([^`]*)`/g, '“$1”');
}
