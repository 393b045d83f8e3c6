/**
 * A space in the main area: its panes in a grid of nested, resizable Lumino SplitPanels drawn
 * from the layout tree in the workspace file.
 *
 * The server's tree is the truth. The view draws what the model holds; when the user drags a
 * split handle, it writes the new sizes back (PATCH), so another browser sees the same grid.
 * Pane widgets (each with its terminal and live connection) outlive redraws: a split or a
 * close re-parents the surviving terminals instead of reconnecting them.
 */

import { Notification } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';
import { BoxLayout, SplitPanel, Widget } from '@lumino/widgets';

import type { ISpace } from './api';
import type { Heading, LayoutNode, LayoutPath } from './layout';
import { cycle, leaf, neighbour, nodeAt, panesOf, reconcile, setSizes, shapeKey } from './layout';
import type { ISpaceChange, SpacesModel } from './model';
import { UNTRUSTED_MESSAGE, isUntrusted } from './snapshotutils';
import { PaneWidget } from './terminal';
import type { ITerminalSettings } from './tokens';
import { CommandIDs } from './tokens';

export interface ISpaceViewOptions {
  spaceId: string;
  model: SpacesModel;
  commands: CommandRegistry;
  settings: ITerminalSettings;
  trans: TranslationBundle;
}

/** How long after a keystroke that may start or stop a program the space is read again. */
const READ_SOON_MS = 500;

/** How long after the last handle move the sizes are saved. */
const SAVE_SIZES_MS = 400;

/**
 * A SplitPanel that keeps its children's proportions when it is resized, as VS Code's grid and
 * tmux do.
 *
 * Lumino's SplitPanel hands extra room out by stretch factor (equally), so sizes set before the
 * panel has its real size are lost: a 26/74 split first laid out at, say, 100 px wide becomes
 * 26 + 450 / 74 + 450 px at 1000 px, i.e. 47/53. That was why a saved split came back wrong
 * after a reload. Here the wanted fractions are kept and applied again on every resize, and
 * updated when the user drags a handle.
 */
export class ProportionalSplitPanel extends SplitPanel {
  /** The fractions to keep (null: Lumino's own behaviour). */
  wanted: number[] | null = null;

  /** Set the fractions to keep and lay them out now. */
  keep(sizes: readonly number[]): void {
    this.wanted = [...sizes];
    this.setRelativeSizes(this.wanted);
  }

  processMessage(msg: Message): void {
    if ((msg.type === 'resize' || msg.type === 'after-show') && this.wanted !== null) {
      // Before the layout handles the resize: it then lays out these fractions of the new size.
      this.setRelativeSizes(this.wanted, false);
    }
    super.processMessage(msg);
  }
}

export class SpaceView extends Widget {
  constructor(options: ISpaceViewOptions) {
    super();
    this.spaceId = options.spaceId;
    this._model = options.model;
    this._commands = options.commands;
    this._settings = options.settings;
    this._trans = options.trans;
    this.addClass('jp-Spaces-view');
    this.node.dataset.spaceId = this.spaceId;
    this.id = `jp-Spaces-view-${this.spaceId}`;
    this.title.label = options.trans.__('Space');

    const layout = (this.layout = new BoxLayout({ direction: 'top-to-bottom', spacing: 0 }));
    this._banner = new Widget();
    this._banner.addClass('jp-Spaces-banner');
    this._banner.hide();
    layout.addWidget(this._banner);
    BoxLayout.setStretch(this._banner, 0);
    this._setRoot(this._placeholder(this._trans.__('Loading…')));

    this._model.spaceChanged.connect(this._onSpaceChanged, this);
    const space = this._model.space(this.spaceId);
    if (space !== undefined) {
      this._setSpace(space);
    } else {
      this._model.refreshSpace(this.spaceId).then(
        s => this._setSpace(s),
        error => this._showBanner(this._trans.__('This space could not be read: %1', (error as Error).message), 'error')
      );
    }
  }

  readonly spaceId: string;

  /** The space as last read, or null (not read yet, or deleted). */
  get space(): ISpace | null {
    return this._space;
  }

  /** Emitted when the space was deleted (here or elsewhere). */
  get deleted(): ISignal<this, void> {
    return this._deleted;
  }

  /** The pane with keyboard focus, or that had it last. */
  get activePaneId(): string | null {
    return this._active;
  }

  get maximizedPaneId(): string | null {
    return this._maximized;
  }

  /** Pane ids in the order they read in the grid. */
  get paneIds(): string[] {
    return panesOf(this._tree());
  }

  pane(paneId: string): PaneWidget | undefined {
    return this._panes.get(paneId);
  }

  /** Give keyboard focus to a pane (restoring the grid if another pane is maximized). */
  activatePane(paneId: string): void {
    const widget = this._panes.get(paneId);
    if (widget === undefined) {
      // Not drawn yet (just created): focus it when it arrives.
      this._focusOnArrival = paneId;
      return;
    }
    if (this._maximized !== null && this._maximized !== paneId) {
      this._maximized = null;
      this._render();
    }
    this._setActive(paneId);
    widget.activate();
  }

  /** Move focus to the pane next to the active one. */
  focusNeighbour(heading: Heading): void {
    if (this._active === null) {
      return;
    }
    const target = neighbour(this._tree(), this._active, heading);
    if (target !== null) {
      this.activatePane(target);
    }
  }

  /** Move focus `step` panes on in reading order. */
  focusCycle(step: number): void {
    const target = cycle(this._tree(), this._active, step);
    if (target !== null) {
      this.activatePane(target);
    }
  }

  /** Show one pane alone, or the whole grid again. */
  toggleMaximize(paneId: string | null = this._active): void {
    if (paneId === null || !this._panes.has(paneId)) {
      return;
    }
    this._maximized = this._maximized === paneId ? null : paneId;
    this._render();
    this.activatePane(paneId);
  }

  applySettings(settings: ITerminalSettings): void {
    this._settings = settings;
    this._panes.forEach(p => p.applySettings(settings));
  }

  applyTheme(): void {
    this._panes.forEach(p => p.applyTheme());
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._saveTimer);
    window.clearTimeout(this._readTimer);
    window.clearTimeout(this._readAgainTimer);
    this._model.spaceChanged.disconnect(this._onSpaceChanged, this);
    this._panes.forEach(p => p.dispose());
    this._panes.clear();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._fitBanner();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    // The text wraps differently at another width.
    requestAnimationFrame(() => this._fitBanner());
  }

  protected onActivateRequest(msg: Message): void {
    const id = this._active ?? this.paneIds[0] ?? null;
    if (id !== null) {
      this.activatePane(id);
    } else {
      this.node.querySelector<HTMLElement>('button')?.focus();
    }
  }

  private _onSpaceChanged(_: SpacesModel, change: ISpaceChange): void {
    if (change.id === this.spaceId) {
      this._setSpace(change.space);
    }
  }

  private _setSpace(space: ISpace | null): void {
    if (this.isDisposed) {
      return;
    }
    if (space === null) {
      this._space = null;
      this._panes.forEach(p => p.dispose());
      this._panes.clear();
      this._setRoot(this._placeholder(this._trans.__('This space was deleted.')));
      this._deleted.emit();
      return;
    }
    this._space = space;
    this.title.label = space.name;
    this.title.caption = this._trans.__('Space %1 in %2', space.name, space.path || '/');
    if (space.status !== 'ok' || space.read_only) {
      this._showBanner(
        space.status === 'newer'
          ? this._trans.__('Written by a newer jupyter-spaces: read-only. %1', space.message ?? '')
          : space.status === 'ok'
            ? this._trans.__('Read-only. %1', space.message ?? '')
            : this._trans.__('The workspace file is %1: %2', space.status, space.message ?? ''),
        space.status === 'broken' ? 'error' : 'warning'
      );
    } else if (isUntrusted(space)) {
      this._showBanner(this._trans.__(UNTRUSTED_MESSAGE), 'warning', {
        label: this._trans.__('Trust'),
        action: 'trust-space',
        command: CommandIDs.trustSpace
      });
    } else {
      this._showBanner('', 'info');
    }
    this.node.dataset.trusted = isUntrusted(space) ? 'false' : 'true';
    this._render();
  }

  /** The tree to draw: the server's, made to show exactly the panes the space has. */
  private _tree(): LayoutNode | null {
    const space = this._space;
    if (space === null) {
      return null;
    }
    return reconcile(space.layout, space.panes.map(p => p.id));
  }

  private _render(): void {
    const space = this._space;
    if (space === null) {
      return;
    }
    // Pane widgets: new ones made, gone ones disposed, the rest told what changed.
    const ids = new Set(space.panes.map(p => p.id));
    for (const [id, widget] of this._panes) {
      if (!ids.has(id)) {
        widget.dispose();
        this._panes.delete(id);
      }
    }
    for (const pane of space.panes) {
      const widget = this._panes.get(pane.id);
      if (widget === undefined) {
        const created = new PaneWidget({
          spaceId: this.spaceId,
          pane,
          api: this._model.api,
          commands: this._commands,
          settings: this._settings,
          trans: this._trans,
          readOnly: space.read_only,
          locked: isUntrusted(space) ? this._trans.__(UNTRUSTED_MESSAGE) : null,
          sessionTitle: p => this._model.sessionTitle(p),
          poke: () => this._readSoon()
        });
        created.focused.connect(() => this._setActive(created.paneId), this);
        this._panes.set(pane.id, created);
      } else {
        widget.setPane(pane);
        widget.setReadOnly(space.read_only);
        widget.setLocked(isUntrusted(space) ? this._trans.__(UNTRUSTED_MESSAGE) : null);
      }
    }
    if (this._maximized !== null && !ids.has(this._maximized)) {
      this._maximized = null;
    }
    if (this._active !== null && !ids.has(this._active)) {
      this._active = null;
    }
    this._panes.forEach((w, id) => w.setMaximized(id === this._maximized));

    const layout = this._tree();
    const shown = this._maximized !== null ? leaf(this._maximized) : layout;
    const key = shapeKey(shown);
    if (shown === null) {
      this._shapeKey = '';
      this._setRoot(this._emptyState());
    } else if (key !== this._shapeKey) {
      this._shapeKey = key;
      const hadFocus = this.node.contains(document.activeElement);
      this._rebuild(shown);
      const focus = this._focusOnArrival ?? (hadFocus ? this._active : null);
      if (focus !== null && this._panes.has(focus)) {
        this._focusOnArrival = null;
        this._setActive(focus);
        this._panes.get(focus)!.activate();
      }
    } else if (this._savesInFlight === 0 && this._saveTimer === 0) {
      // Same shape: only the sizes may differ (another browser dragged a handle). Not while
      // our own drag is being saved, or the handle would jump back under the mouse.
      this._splits.forEach((path, panel) => {
        const node = nodeAt(shown, path);
        if (node !== null && node.type === 'split' && differ(panel.wanted ?? panel.relativeSizes(), node.sizes)) {
          panel.keep(node.sizes);
        }
      });
    }
    if (this._focusOnArrival !== null && this._panes.has(this._focusOnArrival)) {
      const id = this._focusOnArrival;
      this._focusOnArrival = null;
      this.activatePane(id);
    }
    if (this._active === null && this._panes.size > 0) {
      this._setActive(this.paneIds[0] ?? null);
    }
  }

  private _rebuild(tree: LayoutNode): void {
    // Take the terminals out first, so disposing the old panels does not dispose them.
    this._panes.forEach(w => {
      if (w.parent !== null) {
        w.parent = null;
      }
    });
    this._splits.clear();
    this._setRoot(this._build(tree, []));
  }

  private _build(node: LayoutNode, path: LayoutPath): Widget {
    if (node.type === 'pane') {
      return this._panes.get(node.pane)!;
    }
    const panel = new ProportionalSplitPanel({
      orientation: node.direction === 'row' ? 'horizontal' : 'vertical',
      spacing: 4
    });
    panel.addClass('jp-Spaces-split');
    panel.node.dataset.direction = node.direction;
    node.children.forEach((child, i) => panel.addWidget(this._build(child, [...path, i])));
    panel.keep(node.sizes);
    panel.handleMoved.connect(this._onHandleMoved, this);
    this._splits.set(panel, path);
    return panel;
  }

  private _setRoot(widget: Widget): void {
    const layout = this.layout as BoxLayout;
    const old = this._root;
    this._root = widget;
    layout.addWidget(widget);
    BoxLayout.setStretch(widget, 1);
    if (old !== null && old !== widget) {
      if (old instanceof PaneWidget) {
        // A terminal that was the whole grid may have just been put into the new grid:
        // take it out of the view only if it is still the view's own child.
        if (old.parent === this) {
          old.parent = null;
        }
      } else {
        old.dispose();
      }
    }
  }

  private _onHandleMoved(panel: ProportionalSplitPanel): void {
    // What the user dragged to is what to keep when the window or a parent split resizes.
    panel.wanted = panel.relativeSizes();
    window.clearTimeout(this._saveTimer);
    this._saveTimer = window.setTimeout(() => {
      this._saveTimer = 0;
      void this._saveSizes();
    }, SAVE_SIZES_MS);
  }

  /** Write the sizes the user dragged to into the workspace file. */
  private async _saveSizes(): Promise<void> {
    const space = this._space;
    let layout = this._tree();
    if (space === null || layout === null || this._maximized !== null || space.read_only || isUntrusted(space)) {
      return;
    }
    try {
      this._splits.forEach((path, panel) => {
        layout = setSizes(layout!, path, panel.wanted ?? panel.relativeSizes());
      });
    } catch (error) {
      // The grid on screen was drawn for an older tree: the next redraw will be current.
      console.debug('jupyter-spaces: sizes not saved', error);
      return;
    }
    if (JSON.stringify(layout) === JSON.stringify(space.layout)) {
      return;
    }
    this._savesInFlight += 1;
    try {
      this._model.update(await this._model.api.patchSpace(this.spaceId, { layout }));
    } catch (error) {
      Notification.error(this._trans.__('The new pane sizes were not saved: %1', (error as Error).message), {
        autoClose: 5000
      });
      void this._model.refreshSpace(this.spaceId).catch(() => undefined);
    } finally {
      this._savesInFlight -= 1;
    }
  }

  /**
   * Read the space again shortly (debounced): after Enter or output following a quiet spell,
   * the foreground program may have changed, and the pane's title follows it.
   */
  private _readSoon(): void {
    window.clearTimeout(this._readTimer);
    this._readTimer = window.setTimeout(() => {
      this._readTimer = 0;
      if (this.isDisposed || this._reading) {
        return;
      }
      this._reading = true;
      void this._model
        .refreshSpace(this.spaceId)
        .catch(() => undefined)
        .finally(() => {
          this._reading = false;
        });
      // A program takes a moment to start (and tmux to see it): look once more a bit later.
      this._readAgainTimer = window.setTimeout(() => void this._model.refreshSpace(this.spaceId).catch(() => undefined), 1500);
    }, READ_SOON_MS);
  }

  private _setActive(paneId: string | null): void {
    if (paneId === this._active) {
      return;
    }
    this._active = paneId;
    this._panes.forEach((w, id) => w.setActive(id === paneId));
    this.node.dataset.activePane = paneId ?? '';
  }

  private _showBanner(
    text: string,
    kind: 'info' | 'warning' | 'error',
    button?: { label: string; action: string; command: string }
  ): void {
    const node = this._banner.node;
    const span = document.createElement('span');
    span.className = 'jp-Spaces-bannerText';
    span.textContent = text;
    node.replaceChildren(span);
    if (button !== undefined) {
      const b = document.createElement('button');
      b.className = 'jp-mod-styled jp-mod-accept jp-Spaces-bannerButton';
      b.dataset.action = button.action;
      b.textContent = button.label;
      const args = { spaceId: this.spaceId };
      b.title = this._commands.caption(button.command, args);
      b.addEventListener('click', () => void this._commands.execute(button.command, args));
      node.appendChild(b);
    }
    node.dataset.kind = kind;
    this._banner.setHidden(!text);
    this._fitBanner();
  }

  /**
   * Give the banner the height its text needs. The box layout sizes a widget that does not
   * stretch by its CSS minimum, so without one the banner would be drawn under the panes.
   */
  private _fitBanner(): void {
    const node = this._banner.node;
    if (this._banner.isHidden || !this.isAttached) {
      return;
    }
    node.style.minHeight = '';
    const needed = Math.ceil(Math.max(...Array.from(node.children, c => (c as HTMLElement).offsetHeight), 0));
    const style = getComputedStyle(node);
    const height = needed + parseFloat(style.paddingTop || '0') + parseFloat(style.paddingBottom || '0');
    const next = `${height}px`;
    node.style.minHeight = next;
    if (next !== this._bannerHeight) {
      this._bannerHeight = next;
      this.fit();
    }
  }

  private _placeholder(text: string): Widget {
    const w = new Widget();
    w.addClass('jp-Spaces-placeholder');
    w.node.textContent = text;
    return w;
  }

  private _emptyState(): Widget {
    const w = this._placeholder(this._trans.__('This space has no panes yet.'));
    w.addClass('jp-Spaces-empty');
    if (this._space?.read_only || isUntrusted(this._space)) {
      return w;
    }
    const start = document.createElement('button');
    start.className = 'jp-mod-styled jp-mod-accept jp-Spaces-startShell';
    start.textContent = this._commands.label(CommandIDs.newShell, { spaceId: this.spaceId });
    start.addEventListener('click', () => {
      void this._commands.execute(CommandIDs.newShell, { spaceId: this.spaceId });
    });
    w.node.appendChild(document.createElement('br'));
    w.node.appendChild(start);
    return w;
  }

  private _model: SpacesModel;
  private _commands: CommandRegistry;
  private _settings: ITerminalSettings;
  private _trans: TranslationBundle;
  private _space: ISpace | null = null;
  private _panes = new Map<string, PaneWidget>();
  private _splits = new Map<ProportionalSplitPanel, LayoutPath>();
  private _root: Widget | null = null;
  private _banner: Widget;
  private _bannerHeight = '';
  private _shapeKey: string | null = null;
  private _active: string | null = null;
  private _maximized: string | null = null;
  private _focusOnArrival: string | null = null;
  private _saveTimer = 0;
  private _savesInFlight = 0;
  private _readTimer = 0;
  private _readAgainTimer = 0;
  private _reading = false;
  private _deleted = new Signal<this, void>(this);
}

/** Whether two size lists differ by more than a rounding error (no redraw for noise). */
function differ(a: number[], b: number[]): boolean {
  return a.length !== b.length || a.some((s, i) => Math.abs(s - b[i]) > 0.005);
}
