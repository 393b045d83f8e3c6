/**
 * Snapshots of a space: a model of one space's snapshot list, kept current from the server's
 * announcements, and the panel that shows it in the main area (the "Snapshots…" command).
 *
 * The panel is a main-area widget rather than a dialog because its actions ask questions of
 * their own (restore over running panes, delete, prune) and JupyterLab shows one dialog at a
 * time. Every action is a command (commands.ts), so the panel, the palette and the sidebar
 * share one implementation. Plain DOM, text nodes only: names come from the server.
 */

import type { TranslationBundle } from '@jupyterlab/translation';
import { refreshIcon } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { IDisposable } from '@lumino/disposable';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import type { ISnapshot, SpacesAPI } from './api';
import type { ISpacesEvent } from './events';
import type { ISpaceChange, SpacesModel } from './model';
import { formatRelative, formatTimestamp } from './sessionutils';
import {
  UNTRUSTED_MESSAGE,
  formatBytes,
  isUntrusted,
  missingDetail,
  missingText,
  panesDetail,
  panesText,
  snapshotLabel,
  sortSnapshots,
  visibleText
} from './snapshotutils';
import { CommandIDs } from './tokens';

/** Coalesce bursts of announcements (a restore announces the space and each pane). */
const REFRESH_COALESCE_MS = 150;

/** One space's snapshots, newest first. */
export class SnapshotsModel implements IDisposable {
  constructor(options: { spaceId: string; spaces: SpacesModel }) {
    this.spaceId = options.spaceId;
    this._spaces = options.spaces;
    this.api = options.spaces.api;
    this._spaces.announced.connect(this._onAnnounced, this);
  }

  readonly spaceId: string;
  readonly api: SpacesAPI;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get snapshots(): readonly ISnapshot[] {
    return this._snapshots;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  get loading(): boolean {
    return this._inFlight > 0;
  }

  /** Why the last read failed, or null. */
  get error(): string | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Read the list again; the answer to the last request asked wins. */
  async refresh(): Promise<void> {
    window.clearTimeout(this._timer);
    this._timer = 0;
    const seq = ++this._seq;
    this._inFlight += 1;
    this._changed.emit();
    try {
      const list = await this.api.listSnapshots(this.spaceId);
      if (this._isDisposed || seq !== this._seq) {
        return;
      }
      this._snapshots = sortSnapshots(list);
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
    if (!this._isDisposed) {
      this._changed.emit();
    }
  }

  /** Drop one from the list at once (this client just deleted it). */
  forget(snapshotId: string): void {
    const before = this._snapshots.length;
    this._snapshots = this._snapshots.filter(s => s.id !== snapshotId);
    if (this._snapshots.length !== before) {
      this._changed.emit();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    window.clearTimeout(this._timer);
    this._spaces.announced.disconnect(this._onAnnounced, this);
    Signal.clearData(this);
  }

  private _onAnnounced(_: SpacesModel, event: ISpacesEvent): void {
    if (event.spaceId !== this.spaceId || event.action !== 'space_updated') {
      return;
    }
    if (this._timer === 0) {
      this._timer = window.setTimeout(() => {
        this._timer = 0;
        void this.refresh();
      }, REFRESH_COALESCE_MS);
    }
  }

  private _spaces: SpacesModel;
  private _snapshots: ISnapshot[] = [];
  private _loaded = false;
  private _inFlight = 0;
  private _error: string | null = null;
  private _seq = 0;
  private _timer = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}

export interface ISnapshotsPanelOptions {
  spaceId: string;
  spaces: SpacesModel;
  commands: CommandRegistry;
  trans: TranslationBundle;
}

/** The snapshots of one space: take, restore, delete, prune. */
export class SnapshotsPanel extends Widget {
  constructor(options: ISnapshotsPanelOptions) {
    super();
    this.spaceId = options.spaceId;
    this._spaces = options.spaces;
    this._commands = options.commands;
    this._trans = options.trans;
    this.model = new SnapshotsModel({ spaceId: options.spaceId, spaces: options.spaces });
    this.id = `jp-Spaces-snapshots-${this.spaceId}`;
    this.addClass('jp-Spaces-snapshots');
    this.node.dataset.spaceId = this.spaceId;
    this.node.tabIndex = -1;
    this.model.changed.connect(this._render, this);
    this._spaces.spaceChanged.connect(this._onSpaceChanged, this);
    this._render();
    void this.model.refresh();
  }

  readonly spaceId: string;
  readonly model: SnapshotsModel;

  /** Emitted when the space was deleted. */
  get deleted(): ISignal<this, void> {
    return this._deleted;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearInterval(this._clock);
    this._spaces.spaceChanged.disconnect(this._onSpaceChanged, this);
    this.model.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    // Relative times ("5 min ago") go stale while nobody looks.
    this._render();
  }

  protected onAfterAttach(msg: Message): void {
    this._clock = window.setInterval(() => {
      if (this.isVisible) {
        this._render();
      }
    }, 60000);
  }

  protected onBeforeDetach(msg: Message): void {
    window.clearInterval(this._clock);
    this._clock = 0;
  }

  protected onActivateRequest(msg: Message): void {
    (this.node.querySelector<HTMLElement>('[data-action="take-snapshot"]') ?? this.node).focus();
  }

  private _onSpaceChanged(_: SpacesModel, change: ISpaceChange): void {
    if (change.id !== this.spaceId) {
      return;
    }
    if (change.space === null) {
      this._deleted.emit();
      return;
    }
    this._render();
  }

  private _render(): void {
    if (this.isDisposed) {
      return;
    }
    const trans = this._trans;
    const space = this._spaces.space(this.spaceId);
    const name = space?.name ?? this.spaceId;
    this.title.label = trans.__('Snapshots: %1', name);
    this.title.caption = trans.__('Snapshots of the space %1 in %2', name, space ? space.path || '/' : '?');
    const args = { spaceId: this.spaceId };
    const hadFocus = this.node.contains(document.activeElement);
    const focusedAction = (document.activeElement as HTMLElement | null)?.dataset?.action ?? null;
    const scroll = this._table?.parentElement?.scrollTop ?? 0;

    const root = document.createElement('div');
    root.className = 'jp-Spaces-snapshotsContent';

    const header = document.createElement('div');
    header.className = 'jp-Spaces-snapshotsHeader';
    const heading = document.createElement('h2');
    heading.className = 'jp-Spaces-snapshotsTitle';
    heading.textContent = trans.__('Snapshots of %1', name);
    const folder = document.createElement('span');
    folder.className = 'jp-Spaces-spacePath';
    folder.textContent = space ? `${space.path || ''}/` : '';
    heading.appendChild(folder);
    const toolbar = document.createElement('div');
    toolbar.className = 'jp-Spaces-snapshotsToolbar';
    toolbar.append(
      this._textButton('take-snapshot', CommandIDs.takeSnapshot, args, trans.__('Take Snapshot'), 'accept'),
      this._textButton(
        'prune-snapshots',
        CommandIDs.pruneSnapshots,
        args,
        trans.__('Prune…'),
        'default',
        this.model.snapshots.length === 0 ? trans.__('There are no snapshots to prune.') : null
      )
    );
    const refresh = document.createElement('button');
    refresh.className = 'jp-Spaces-iconButton';
    refresh.dataset.action = 'refresh-snapshots';
    refresh.title = trans.__('Read the list again');
    refresh.setAttribute('aria-label', refresh.title);
    refreshIcon.element({ container: refresh, tag: null });
    refresh.addEventListener('click', () => void this.model.refresh());
    toolbar.appendChild(refresh);
    header.append(heading, toolbar);
    root.appendChild(header);

    const about = document.createElement('p');
    about.className = 'jp-Spaces-snapshotsAbout';
    about.textContent = trans.__(
      'A snapshot keeps the layout, every pane\'s screen text and the agents\' conversations, in %1. Restoring puts the space back as it was and starts its panes again.',
      space ? `${space.path ? space.path + '/' : ''}.jupyter-spaces/snapshots/` : '.jupyter-spaces/snapshots/'
    );
    root.appendChild(about);

    if (isUntrusted(space)) {
      root.appendChild(this._banner(trans.__(UNTRUSTED_MESSAGE), 'warning'));
    }
    if (this.model.error !== null) {
      root.appendChild(this._banner(trans.__('Could not list the snapshots: %1', this.model.error), 'error'));
    }

    const snapshots = this.model.snapshots;
    if (snapshots.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'jp-Spaces-snapshotsEmpty';
      empty.textContent = this.model.loaded
        ? trans.__('No snapshots yet. Take one before a risky change to come back to this point.')
        : this.model.error === null
          ? trans.__('Loading…')
          : '';
      root.appendChild(empty);
      this._table = null;
    } else {
      const wrap = document.createElement('div');
      wrap.className = 'jp-Spaces-snapshotsTableWrap';
      const table = (this._table = document.createElement('table'));
      table.className = 'jp-Spaces-snapshotsTable';
      const head = document.createElement('thead');
      const hr = document.createElement('tr');
      for (const label of [trans.__('Taken'), trans.__('Name'), trans.__('Panes'), trans.__('Size'), '']) {
        const th = document.createElement('th');
        th.textContent = label;
        hr.appendChild(th);
      }
      head.appendChild(hr);
      const body = document.createElement('tbody');
      const now = Date.now();
      for (const snapshot of snapshots) {
        body.appendChild(this._row(snapshot, now));
      }
      table.append(head, body);
      wrap.appendChild(table);
      root.appendChild(wrap);
    }
    this.node.replaceChildren(root);
    if (this._table?.parentElement) {
      this._table.parentElement.scrollTop = scroll;
    }
    if (hadFocus) {
      // A redraw must not drop the keyboard focus on the floor.
      const again = focusedAction
        ? this.node.querySelector<HTMLElement>(`[data-action="${focusedAction}"]`)
        : null;
      (again ?? this.node).focus();
    }
  }

  private _row(snapshot: ISnapshot, now: number): HTMLTableRowElement {
    const trans = this._trans;
    const tr = document.createElement('tr');
    tr.className = 'jp-Spaces-snapshot';
    tr.dataset.snapshotId = snapshot.id;

    const when = document.createElement('td');
    when.className = 'jp-Spaces-snapshotTime';
    const time = document.createElement('time');
    time.dateTime = snapshot.created;
    time.textContent = formatRelative(snapshot.created, now, trans) || snapshot.id;
    const exact = new Date(snapshot.created);
    time.title = Number.isNaN(exact.getTime())
      ? snapshot.created
      : `${formatTimestamp(snapshot.created)}:${String(exact.getSeconds()).padStart(2, '0')} (${exact.toISOString()})`;
    when.appendChild(time);

    const name = document.createElement('td');
    name.className = 'jp-Spaces-snapshotName';
    const label = typeof snapshot.name === 'string' ? visibleText(snapshot.name.trim()) : '';
    name.textContent = label || trans.__('(no name)');
    name.dataset.unnamed = label ? 'false' : 'true';
    name.title = trans.__('id %1', snapshot.id);

    const panes = document.createElement('td');
    panes.className = 'jp-Spaces-snapshotPanes';
    panes.textContent = panesText(snapshot, trans);
    panes.title = panesDetail(snapshot, trans);
    const missing = missingText(snapshot, trans);
    if (missing) {
      const warn = document.createElement('span');
      warn.className = 'jp-Spaces-snapshotMissing';
      warn.textContent = `⚠ ${missing}`;
      warn.title = missingDetail(snapshot, trans);
      panes.append(document.createElement('br'), warn);
    }

    const size = document.createElement('td');
    size.className = 'jp-Spaces-snapshotSize';
    size.textContent = formatBytes(snapshot.bytes);
    size.title = trans._n('%1 byte', '%1 bytes', typeof snapshot.bytes === 'number' ? snapshot.bytes : 0);

    const actions = document.createElement('td');
    actions.className = 'jp-Spaces-snapshotActions';
    const args = { spaceId: this.spaceId, snapshotId: snapshot.id };
    const what = snapshotLabel(snapshot, v => formatTimestamp(v), trans);
    const restore = this._textButton('restore-snapshot', CommandIDs.restoreSnapshot, args, trans.__('Restore'), 'default');
    restore.title = trans.__('Put the space back as it was in %1', what);
    const remove = this._textButton('delete-snapshot', CommandIDs.deleteSnapshot, args, trans.__('Delete'), 'warn');
    remove.title = trans.__('Delete %1', what);
    actions.append(restore, remove);

    tr.append(when, name, panes, size, actions);
    return tr;
  }

  private _textButton(
    action: string,
    command: string,
    args: Record<string, string>,
    label: string,
    kind: 'accept' | 'warn' | 'default',
    disabledReason: string | null = null
  ): HTMLButtonElement {
    const b = document.createElement('button');
    b.className = `jp-mod-styled jp-Spaces-textButton${kind === 'accept' ? ' jp-mod-accept' : kind === 'warn' ? ' jp-mod-warn' : ''}`;
    b.dataset.action = action;
    b.textContent = label;
    b.title = disabledReason ?? this._commands.caption(command, args) ?? label;
    b.disabled = disabledReason !== null;
    b.addEventListener('click', event => {
      event.stopPropagation();
      void this._commands.execute(command, args);
    });
    return b;
  }

  private _banner(text: string, kind: 'warning' | 'error'): HTMLElement {
    const p = document.createElement('p');
    p.className = 'jp-Spaces-banner';
    p.dataset.kind = kind;
    p.textContent = text;
    return p;
  }

  private _spaces: SpacesModel;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
  private _table: HTMLTableElement | null = null;
  private _clock = 0;
  private _deleted = new Signal<this, void>(this);
}
