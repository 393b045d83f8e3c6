/**
 * The agent sessions found on the server machine (Claude Code, Codex, Gemini CLI), searchable
 * and resumable: a model of one search and its results, and the Sessions section of the
 * Spaces sidebar that shows them.
 *
 * The words and numbers a row shows, the query and the highlighted snippet are computed by the
 * pure functions of sessionutils.ts. The snippet comes from the server as HTML-escaped text
 * with <mark> markers; it is built into text nodes and <mark> elements, never parsed as HTML.
 */

import type { Event } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Styling } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { IDisposable } from '@lumino/disposable';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { ISession, SpacesAPI } from './api';
import { parseSessionsChanged } from './events';
import type { SpacesModel } from './model';
import type { ISearchState } from './sessionutils';
import {
  AGENTS,
  MAX_RESULTS,
  PAGE_SIZE,
  agentLabel,
  formatRelative,
  formatTimestamp,
  formatTokens,
  normalizeQuery,
  queryFor,
  resumeState,
  sessionFolder,
  sessionTitle,
  splitSnippet
} from './sessionutils';
import { CommandIDs } from './tokens';

export * from './sessionutils';

/** How long typing must pause before the search runs. */
export const SEARCH_DEBOUNCE_MS = 250;
/** While the server's first scan runs, ask again this often (it may find nothing new to say). */
const INDEXING_POLL_MS = 2000;
/** Coalesce the index's change announcements (the server sends at most two a second). */
const CHANGE_COALESCE_MS = 300;

export interface ISessionsModelOptions {
  api: SpacesAPI;
  /** jupyter-server's event bus, for `sessions_changed`; without it, only explicit refreshes. */
  events?: Event.IManager | null;
  debounce?: number;
}

/** One search over the agent sessions and its current results. */
export class SessionsModel implements IDisposable {
  constructor(options: ISessionsModelOptions) {
    this.api = options.api;
    this._debounce = options.debounce ?? SEARCH_DEBOUNCE_MS;
    this._events = options.events ?? null;
    this._events?.stream.connect(this._onEmission, this);
  }

  readonly api: SpacesAPI;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get state(): Readonly<ISearchState> {
    return this._state;
  }

  get sessions(): readonly ISession[] {
    return this._sessions;
  }

  /** The server's first scan since it started is still running: results may be missing. */
  get indexing(): boolean {
    return this._indexing;
  }

  /** A request is out. */
  get loading(): boolean {
    return this._inFlight > 0;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** Why the last search failed, or null. */
  get error(): string | null {
    return this._error;
  }

  /** Whether "Show more" can bring more results. */
  get hasMore(): boolean {
    const limit = this._state.limit ?? PAGE_SIZE;
    return this._sessions.length >= limit && limit < MAX_RESULTS;
  }

  /**
   * Whether someone is looking (the section is shown). Announcements that arrive while nobody
   * looks only mark the results stale; they are read again when the section is shown.
   */
  get active(): boolean {
    return this._active;
  }

  set active(value: boolean) {
    if (value === this._active) {
      return;
    }
    this._active = value;
    if (value && (this._stale || !this._loaded)) {
      void this.refresh();
    }
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The words to look for; searched once typing pauses (`now`: at once, for Enter). */
  setText(text: string, now = false): void {
    this._state = { ...this._state, text };
    window.clearTimeout(this._typing);
    this._typing = 0;
    const query = normalizeQuery(text);
    if (query === this._searched && !now) {
      return;
    }
    if (now) {
      void this.refresh();
    } else {
      this._typing = window.setTimeout(() => {
        this._typing = 0;
        void this.refresh();
      }, this._debounce);
    }
  }

  setAgent(agent: string | null): void {
    if ((agent || null) === this._state.agent) {
      return;
    }
    this._state = { ...this._state, agent: agent || null, limit: PAGE_SIZE };
    void this.refresh();
  }

  setSpace(space: string | null): void {
    if ((space || null) === this._state.space) {
      return;
    }
    this._state = { ...this._state, space: space || null, limit: PAGE_SIZE };
    void this.refresh();
  }

  showMore(): void {
    if (!this.hasMore) {
      return;
    }
    this._state = { ...this._state, limit: Math.min(MAX_RESULTS, (this._state.limit ?? PAGE_SIZE) + PAGE_SIZE) };
    void this.refresh();
  }

  /** Run the search as it stands. Out-of-order answers are dropped: the last asked wins. */
  async refresh(): Promise<void> {
    window.clearTimeout(this._typing);
    this._typing = 0;
    window.clearTimeout(this._poll);
    this._poll = 0;
    this._stale = false;
    const seq = ++this._seq;
    const state = this._state;
    this._inFlight += 1;
    this._changed.emit();
    try {
      const list = await this.api.listSessions(queryFor(state));
      if (this._isDisposed || seq !== this._seq) {
        return;
      }
      this._searched = normalizeQuery(state.text);
      this._sessions = Array.isArray(list.sessions) ? list.sessions : [];
      this._indexing = list.indexing === true;
      this._loaded = true;
      this._error = null;
    } catch (error) {
      if (this._isDisposed || seq !== this._seq) {
        return;
      }
      this._error = (error as Error).message || String(error);
    } finally {
      this._inFlight -= 1;
    }
    if (this._indexing && this._poll === 0) {
      this._poll = window.setTimeout(() => {
        this._poll = 0;
        if (this._active) {
          void this.refresh();
        } else {
          this._stale = true;
        }
      }, INDEXING_POLL_MS);
    }
    this._changed.emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._events?.stream.disconnect(this._onEmission, this);
    window.clearTimeout(this._typing);
    window.clearTimeout(this._poll);
    window.clearTimeout(this._coalesce);
    Signal.clearData(this);
  }

  private _onEmission(_: unknown, emission: unknown): void {
    if (parseSessionsChanged(emission) === null) {
      return;
    }
    if (!this._active) {
      this._stale = true;
      return;
    }
    if (this._coalesce === 0) {
      this._coalesce = window.setTimeout(() => {
        this._coalesce = 0;
        void this.refresh();
      }, CHANGE_COALESCE_MS);
    }
  }

  private _state: ISearchState = { text: '', agent: null, space: null, limit: PAGE_SIZE };
  private _searched = '';
  private _sessions: ISession[] = [];
  private _indexing = false;
  private _loaded = false;
  private _error: string | null = null;
  private _inFlight = 0;
  private _seq = 0;
  private _active = false;
  private _stale = false;
  private _debounce: number;
  private _typing = 0;
  private _poll = 0;
  private _coalesce = 0;
  private _events: Event.IManager | null;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export interface ISessionsPanelOptions {
  model: SessionsModel;
  spaces: SpacesModel;
  commands: CommandRegistry;
  trans: TranslationBundle;
}

/** The Sessions section of the sidebar: a search box, two filters and the results. */
export class SessionsPanel extends Widget {
  constructor(options: ISessionsPanelOptions) {
    super();
    this._model = options.model;
    this._spaces = options.spaces;
    this._commands = options.commands;
    this._trans = options.trans;
    const trans = this._trans;
    this.id = 'jp-Spaces-sessions';
    this.addClass('jp-Spaces-sessions');
    this.title.label = trans.__('Agent Sessions');
    this.title.caption = trans.__('Claude Code, Codex and Gemini CLI sessions on the server');

    const search = document.createElement('div');
    search.className = 'jp-Spaces-sessionsSearch';

    const input = (this._input = document.createElement('input'));
    input.type = 'search';
    input.className = 'jp-mod-styled jp-Spaces-sessionsQuery';
    input.placeholder = trans.__('Search agent sessions');
    input.setAttribute('aria-label', trans.__('Search agent sessions'));
    input.spellcheck = false;
    input.addEventListener('input', () => this._model.setText(input.value));
    input.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this._model.setText(input.value, true);
      } else if (event.key === 'Escape' && input.value) {
        event.preventDefault();
        event.stopPropagation();
        input.value = '';
        this._model.setText('', true);
      }
    });

    const filters = document.createElement('div');
    filters.className = 'jp-Spaces-sessionsFilters';
    const agent = document.createElement('select');
    agent.className = 'jp-Spaces-sessionsAgent';
    agent.setAttribute('aria-label', trans.__('Agent'));
    agent.append(this._option('', trans.__('All agents')));
    for (const name of AGENTS) {
      agent.append(this._option(name, agentLabel(name)));
    }
    agent.addEventListener('change', () => this._model.setAgent(agent.value || null));
    const space = (this._spaceSelect = document.createElement('select'));
    space.className = 'jp-Spaces-sessionsSpace';
    space.setAttribute('aria-label', trans.__('Space'));
    space.addEventListener('change', () => this._model.setSpace(space.value || null));
    filters.append(Styling.wrapSelect(agent), Styling.wrapSelect(space));
    search.append(input, filters);

    this._status = document.createElement('div');
    this._status.className = 'jp-Spaces-sessionsStatus';
    this._status.setAttribute('aria-live', 'polite');

    this._list = document.createElement('ul');
    this._list.className = 'jp-Spaces-sessionList';

    this._more = document.createElement('button');
    this._more.className = 'jp-mod-styled jp-Spaces-sessionsMore';
    this._more.textContent = trans.__('Show more');
    this._more.addEventListener('click', () => this._model.showMore());

    const scroller = document.createElement('div');
    scroller.className = 'jp-Spaces-sessionsScroller';
    scroller.append(this._list, this._more);
    this.node.append(search, this._status, scroller);

    this._model.changed.connect(this._render, this);
    this._spaces.changed.connect(this._onSpacesChanged, this);
    this._renderSpaceOptions();
    this._render();
  }

  /** Put the cursor in the search box (the "Search Agent Sessions" command). */
  focusSearch(): void {
    this._input.focus();
    this._input.select();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearInterval(this._clock);
    this._model.changed.disconnect(this._render, this);
    this._spaces.changed.disconnect(this._onSpacesChanged, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    this._model.active = true;
    // "5 min ago" grows old while the panel is open: redraw the times now and then.
    window.clearInterval(this._clock);
    this._clock = window.setInterval(() => this._render(), 60000);
  }

  protected onAfterHide(msg: Message): void {
    this._model.active = false;
    window.clearInterval(this._clock);
  }

  protected onAfterAttach(msg: Message): void {
    if (this.isVisible) {
      this._model.active = true;
    }
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.active = false;
  }

  private _onSpacesChanged(): void {
    this._renderSpaceOptions();
    // Buttons say "Show" for a session already open in a pane: that may have changed.
    this._render();
  }

  private _renderSpaceOptions(): void {
    const trans = this._trans;
    const select = this._spaceSelect;
    const chosen = this._model.state.space;
    const spaces = this._spaces.spaces;
    const options = [this._option('', trans.__('All spaces'))];
    for (const s of spaces) {
      options.push(this._option(s.id, `${s.name} — ${s.path || '/'}`));
    }
    const key = options.map(o => `${o.value}\u0000${o.textContent}`).join('\u0001');
    if (key !== this._spaceOptionsKey) {
      this._spaceOptionsKey = key;
      select.replaceChildren(...options);
    }
    if (chosen !== null && !spaces.some(s => s.id === chosen)) {
      // The space filtered on was deleted: show everything again.
      select.value = '';
      this._model.setSpace(null);
    } else {
      select.value = chosen ?? '';
    }
  }

  private _render(): void {
    const trans = this._trans;
    const model = this._model;
    this.node.dataset.loading = String(model.loading);
    this.node.dataset.indexing = String(model.indexing);

    let status = '';
    let kind = 'info';
    if (model.error !== null) {
      status = trans.__('Could not search the sessions: %1', model.error);
      kind = 'error';
    } else if (model.indexing) {
      status = trans.__('indexing…');
    } else if (model.loaded && model.sessions.length === 0) {
      const filtered = normalizeQuery(model.state.text) || model.state.agent || model.state.space;
      status = filtered
        ? trans.__('No sessions match.')
        : trans.__('No agent sessions found on the server yet. Sessions of Claude Code, Codex and Gemini CLI show here.');
    }
    this._status.textContent = status;
    this._status.dataset.kind = kind;
    this._status.hidden = status === '';

    const now = Date.now();
    this._list.replaceChildren(...model.sessions.map(s => this._row(s, now)));
    this._more.hidden = !model.hasMore;
  }

  private _row(session: ISession, now: number): HTMLLIElement {
    const trans = this._trans;
    const li = document.createElement('li');
    li.className = 'jp-Spaces-session';
    li.dataset.agent = session.agent;
    li.dataset.sessionId = session.id;
    li.dataset.gone = String(session.gone === true);

    const top = document.createElement('div');
    top.className = 'jp-Spaces-sessionTop';
    const badge = document.createElement('span');
    badge.className = 'jp-Spaces-agentBadge';
    badge.dataset.agent = session.agent;
    badge.textContent = agentLabel(session.agent);
    const title = document.createElement('span');
    title.className = 'jp-Spaces-sessionTitle';
    title.textContent = sessionTitle(session);
    title.title = this._details(session);
    top.append(badge, title);
    if (session.gone) {
      const gone = document.createElement('span');
      gone.className = 'jp-Spaces-sessionGone';
      gone.textContent = trans.__('gone');
      gone.title = trans.__('The transcript was deleted (the CLI prunes old sessions); the session stays listed.');
      top.appendChild(gone);
    }

    const open = this._openPane(session);
    const state = resumeState(session, trans);
    const wrap = document.createElement('span');
    wrap.className = 'jp-Spaces-resumeWrap';
    const button = document.createElement('button');
    button.className = 'jp-mod-styled jp-Spaces-resume';
    button.dataset.action = open ? 'show' : 'resume';
    if (open) {
      button.textContent = trans.__('Show');
      button.title = trans.__('This session runs in a pane: show it');
    } else {
      button.textContent = trans.__('Resume');
      button.disabled = !state.enabled;
      button.title = state.enabled
        ? [trans.__('Resume in a new pane of its space'), state.reason].filter(Boolean).join('\n')
        : state.reason;
    }
    // A disabled button gets no mouse events in every browser: the wrapper carries the reason.
    wrap.title = button.title;
    button.addEventListener('click', event => {
      event.stopPropagation();
      void this._commands.execute(CommandIDs.resumeSession, { agent: session.agent, id: session.id });
    });
    wrap.appendChild(button);
    li.appendChild(top);

    const meta = document.createElement('div');
    meta.className = 'jp-Spaces-sessionMeta';
    const folder = sessionFolder(session);
    const where = document.createElement('span');
    where.className = 'jp-Spaces-sessionCwd';
    where.textContent = folder || trans.__('unknown folder');
    where.title = session.cwd ?? '';
    const when = document.createElement('span');
    when.className = 'jp-Spaces-sessionTime';
    when.textContent = formatRelative(session.last_activity, now, trans);
    when.title = session.last_activity ? trans.__('last activity %1', formatTimestamp(session.last_activity)) : '';
    const tokens = document.createElement('span');
    tokens.className = 'jp-Spaces-sessionTokens';
    tokens.textContent = formatTokens(session.tokens?.total, trans);
    const t = session.tokens;
    tokens.title = t
      ? trans.__(
          'input %1, output %2, cache read %3, cache creation %4, reasoning %5',
          t.input ?? 0,
          t.output ?? 0,
          t.cache_read ?? 0,
          t.cache_creation ?? 0,
          t.reasoning ?? 0
        )
      : '';
    const facts = document.createElement('span');
    facts.className = 'jp-Spaces-sessionFacts';
    facts.append(where, when, tokens);
    // The button sits on this line, so the title gets the whole width of the first one.
    meta.append(facts, wrap);
    li.appendChild(meta);

    const parts = splitSnippet(session.snippet);
    if (parts.length > 0) {
      const snippet = document.createElement('div');
      snippet.className = 'jp-Spaces-sessionSnippet';
      for (const part of parts) {
        if (part.mark) {
          const mark = document.createElement('mark');
          mark.textContent = part.text;
          snippet.appendChild(mark);
        } else {
          snippet.appendChild(document.createTextNode(part.text));
        }
      }
      li.appendChild(snippet);
    }
    return li;
  }

  /** A running pane that holds this session already, if any. */
  private _openPane(session: ISession): boolean {
    return this._spaces.spaces.some(s =>
      s.panes.some(p => p.session_id === session.id && p.agent === session.agent && p.state === 'running')
    );
  }

  private _details(session: ISession): string {
    const trans = this._trans;
    return [
      sessionTitle(session, 400),
      trans.__('%1 session %2', agentLabel(session.agent), session.id),
      session.started ? trans.__('started %1', formatTimestamp(session.started)) : '',
      session.last_activity ? trans.__('last activity %1', formatTimestamp(session.last_activity)) : '',
      trans._n('%1 message', '%1 messages', session.message_count ?? 0),
      session.models?.length ? trans.__('models: %1', session.models.join(', ')) : '',
      session.git_branch ? trans.__('branch: %1', session.git_branch) : '',
      session.is_subagent ? trans.__('sub-agent of %1', session.parent_id ?? '?') : ''
    ]
      .filter(Boolean)
      .join('\n');
  }

  private _option(value: string, label: string): HTMLOptionElement {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    return o;
  }

  private _model: SessionsModel;
  private _spaces: SpacesModel;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
  private _input: HTMLInputElement;
  private _spaceSelect: HTMLSelectElement;
  private _status: HTMLDivElement;
  private _list: HTMLUListElement;
  private _more: HTMLButtonElement;
  private _spaceOptionsKey = '';
  private _clock = 0;
}
