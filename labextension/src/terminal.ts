/**
 * One pane on screen: a slim header (title, kind, run state, agent state or foreground program,
 * connection state, actions) above an xterm.js terminal wired to the pane's live channel.
 *
 * The header's buttons run the same JupyterLab commands as the palette and the keyboard
 * shortcuts (with this pane's ids as arguments), so every action has one implementation.
 */

import type { TranslationBundle } from '@jupyterlab/translation';
import { closeIcon, refreshIcon } from '@jupyterlab/ui-components';
import type { LabIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Platform } from '@lumino/domutils';
import type { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';
import { Menu, Widget } from '@lumino/widgets';
import type { ITerminalOptions, Terminal } from '@xterm/xterm';
import type { FitAddon } from '@xterm/addon-fit';

import { createActivity, createAgentBadge, renderActivity, renderAgentBadge } from './agentbadge';
import type { IPane, SpacesAPI } from './api';
import type { ConnectionState } from './channel';
import { PaneChannel } from './channel';
import { maximizeIcon, restoreIcon, splitDownIcon, splitRightIcon } from './icons';
import { terminalTheme } from './theme';
import { paneName } from './paneident';
import { paneKindLabel } from './sessionutils';
import type { ITerminalSettings } from './tokens';
import { CommandIDs } from './tokens';
import { createTerminal } from './xterm';

export interface IPaneWidgetOptions {
  spaceId: string;
  pane: IPane;
  api: SpacesAPI;
  commands: CommandRegistry;
  settings: ITerminalSettings;
  trans: TranslationBundle;
  readOnly: boolean;
  /** Why the pane may not be changed (its space is untrusted), or null. */
  locked?: string | null;
  /**
   * Called when what runs in the pane may have changed (Enter, Ctrl-C/D/Z typed; output after
   * a quiet spell), so the view reads the pane again and its title follows the program.
   */
  poke?: () => void;
  /** An agent pane's session title, when the session index knows it. */
  sessionTitle?: (pane: IPane) => string | null;
}

/** How long a notice (refused input, a server error) stays in the header. */
const NOTICE_MS = 8000;

/** How often the ages in the header (last output, time in an agent state) are brought up to date. */
const AGE_TICK_MS = 10000;

/**
 * Below this width (px) a pane's header shows only its title, state and the "⋯" menu: the action
 * buttons would push the title out of sight (VS Code collapses editor actions the same way).
 */
export const NARROW_PANE_PX = 360;

/** The pane actions of the "⋯" menu and the header's context menu, in order (null: a separator). */
export const PANE_MENU: Array<string | null> = [
  CommandIDs.splitRight,
  CommandIDs.splitDown,
  null,
  CommandIDs.renamePane,
  CommandIDs.restartPane,
  CommandIDs.toggleAutorestart,
  null,
  CommandIDs.toggleMaximize,
  CommandIDs.closePane
];

/** Output after this much silence (ms) may be a program starting or ending: read the pane again. */
const QUIET_MS = 5000;

/** Output this soon after (re)connecting or resizing is a redraw, not the program printing. */
const REDRAW_MS = 1500;

export class PaneWidget extends Widget {
  constructor(options: IPaneWidgetOptions) {
    super();
    this.spaceId = options.spaceId;
    this.paneId = options.pane.id;
    this._pane = options.pane;
    this._api = options.api;
    this._commands = options.commands;
    this._settings = options.settings;
    this._trans = options.trans;
    this._readOnly = options.readOnly;
    this._locked = options.locked ?? null;
    this._titleOf = options.sessionTitle ?? null;
    this._poke = options.poke ?? null;

    this.addClass('jp-Spaces-pane');
    this.node.dataset.paneId = this.paneId;
    this.node.dataset.spaceId = this.spaceId;
    this.node.tabIndex = -1;
    this._buildHeader();
    this._body = document.createElement('div');
    this._body.className = 'jp-Spaces-paneBody';
    this.node.appendChild(this._body);

    this._channel = new PaneChannel({
      url: () => this._api.channelUrl(this.spaceId, this.paneId, this._historyLines())
    });
    this._channel.stateChanged.connect(this._onConnectionChanged, this);
    this._channel.bufferChanged.connect(this._onBufferChanged, this);
    this._channel.serverError.connect((_, message) => this._notice(message, 'error'), this);

    this.node.addEventListener('focusin', this);
    this._narrowObserver = new ResizeObserver(() => this._checkNarrow());
    this._narrowObserver.observe(this.node);
    this._renderHeader();
    this._ageTimer = window.setInterval(() => this._renderAges(), AGE_TICK_MS);
    // Open the socket now, while xterm.js loads: the redraw waits in the channel. A pane
    // whose session is gone has nothing to attach to until it is restarted (see setPane).
    if (this._pane.state !== 'gone') {
      this._connect();
    }
    void this._init();
  }

  readonly spaceId: string;
  readonly paneId: string;

  /** The pane as the server last described it. */
  get pane(): IPane {
    return this._pane;
  }

  get connectionState(): ConnectionState {
    return this._channel.state;
  }

  /** The renderer xterm.js uses ('webgl' or 'dom'), or null until it is open. */
  get renderer(): string | null {
    return this.node.dataset.renderer ?? null;
  }

  /** Emitted when keyboard focus enters the pane. */
  get focused(): ISignal<this, void> {
    return this._focused;
  }

  /** A new description of the pane from the server. */
  setPane(pane: IPane): void {
    this._pane = pane;
    // A restarted pane whose session had ended has a new stream: attach to it.
    if (pane.state === 'running') {
      if (!this._connectRequested) {
        this._connect();
      } else if (this._channel.state === 'closed') {
        this._channel.reconnect();
      }
    }
    this._renderHeader();
  }

  setReadOnly(readOnly: boolean): void {
    this._readOnly = readOnly;
    this._renderHeader();
  }

  /** Disable the actions that change the pane, with `reason` as their tooltip (null: enable). */
  setLocked(reason: string | null): void {
    if (reason === this._locked) {
      return;
    }
    this._locked = reason;
    this._renderHeader();
  }

  setMaximized(maximized: boolean): void {
    this._maximized = maximized;
    this.toggleClass('jp-mod-maximized', maximized);
    this._renderHeader();
  }

  setActive(active: boolean): void {
    this.toggleClass('jp-mod-active', active);
  }

  /**
   * The text of the terminal's buffer: scrollback and screen, one line per row, trailing
   * blanks trimmed. Renderer-independent (the WebGL renderer has no text in the DOM), so
   * browser tests and a "copy screen" action can read what the pane shows.
   */
  screenText(lastLines = Infinity): string {
    const term = this._term;
    if (term === null) {
      return '';
    }
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let i = Math.max(0, buffer.length - lastLines); i < buffer.length; i++) {
      lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    }
    return lines.join('\n');
  }

  /** Try the connection again now; `fresh` replaces an open one too (for a full redraw). */
  reconnect(fresh = false): void {
    if (this._connectRequested) {
      this._channel.reconnect(fresh);
    } else {
      this._connect();
    }
  }

  applySettings(settings: ITerminalSettings): void {
    this._settings = settings;
    const term = this._term;
    if (term === null) {
      return;
    }
    term.options.fontFamily = settings.fontFamily;
    term.options.fontSize = settings.fontSize;
    term.options.lineHeight = settings.lineHeight;
    term.options.scrollback = settings.scrollback;
    term.options.cursorBlink = settings.cursorBlink;
    term.options.cursorStyle = settings.cursorStyle;
    term.options.macOptionIsMeta = settings.macOptionIsMeta;
    this.applyTheme();
    this._scheduleFit();
  }

  /** Re-read the theme's colours (after JupyterLab's theme changed). */
  applyTheme(): void {
    const theme = terminalTheme(this._settings.theme);
    if (this._term !== null) {
      this._term.options.theme = theme;
    }
    this._body.style.backgroundColor = theme.background ?? '';
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._resizeObserver?.disconnect();
    this._narrowObserver.disconnect();
    this._menu?.dispose();
    window.clearTimeout(this._noticeTimer);
    window.clearInterval(this._ageTimer);
    if (this._fitFrame !== 0) {
      cancelAnimationFrame(this._fitFrame);
    }
    this._channel.dispose();
    this._term?.dispose();
    this._term = null;
    super.dispose();
  }

  handleEvent(event: Event): void {
    if (event.type === 'focusin') {
      this._focused.emit();
    }
  }

  protected onActivateRequest(msg: Message): void {
    if (this._term !== null) {
      this._term.focus();
    } else {
      this.node.focus();
    }
  }

  protected onAfterShow(msg: Message): void {
    this._scheduleFit();
  }

  protected onAfterAttach(msg: Message): void {
    this._scheduleFit();
  }

  private _connect(): void {
    this._connectRequested = true;
    this._channel.connect();
    this._renderHeader();
  }

  private async _init(): Promise<void> {
    let created;
    try {
      created = await createTerminal(this._xtermOptions());
    } catch (error) {
      this._notice(this._trans.__('The terminal could not be loaded: %1', String(error)), 'error');
      return;
    }
    if (this.isDisposed) {
      created.term.dispose();
      return;
    }
    const { term, fit } = created;
    this._term = term;
    this._fitAddon = fit;
    term.open(this._body);
    this.node.dataset.renderer = created.useBestRenderer(() => {
      this.node.dataset.renderer = 'dom';
    });
    term.onData(data => this._type(data));
    // Binary data is what xterm.js reports for some mouse modes; the channel is text.
    term.onBinary(data => this._type(data));
    term.onTitleChange(title => {
      this._programTitle = title;
      this._renderHeader();
    });
    term.attachCustomKeyEventHandler(event => this._keyFilter(event));
    this.applyTheme();
    this._channel.setSink((text, done) => {
      const now = Date.now();
      if (now - this._redrawAt > REDRAW_MS) {
        if (this._lastOutput === null || now - this._lastOutput > QUIET_MS) {
          this._poke?.();
        }
        this._lastOutput = now;
      }
      term.write(text, done);
    });
    this._resizeObserver = new ResizeObserver(() => this._scheduleFit());
    this._resizeObserver.observe(this._body);
    this._scheduleFit();
    if (this.hasClass('jp-mod-active') && this.node.contains(document.activeElement)) {
      term.focus();
    }
  }

  private _xtermOptions(): ITerminalOptions {
    const s = this._settings;
    return {
      fontFamily: s.fontFamily,
      fontSize: s.fontSize,
      lineHeight: s.lineHeight,
      scrollback: s.scrollback,
      cursorBlink: s.cursorBlink,
      cursorStyle: s.cursorStyle,
      macOptionIsMeta: s.macOptionIsMeta,
      theme: terminalTheme(s.theme)
    };
  }

  /** History to ask for: no more than the terminal can hold. */
  private _historyLines(): number | null {
    const { historyLines, scrollback } = this._settings;
    if (historyLines !== null) {
      return Math.min(historyLines, scrollback);
    }
    // The server's default (10 000 lines) unless the terminal keeps fewer, in which case
    // asking for more would only cost time.
    return scrollback < 10000 ? scrollback : null;
  }

  /**
   * Keys xterm.js must not swallow. xterm.js stops the propagation of every key it handles,
   * so without this our own shortcuts (focus movement, splits) could never fire while a
   * terminal has focus, which is always.
   */
  private _keyFilter(event: KeyboardEvent): boolean {
    if (event.type !== 'keydown') {
      return true;
    }
    const keystroke = CommandRegistry.keystrokeForKeydownEvent(event);
    const ours = this._commands.keyBindings.some(
      b => b.command.startsWith('jupyter-spaces:') && b.keys.length === 1 && b.keys[0] === keystroke
    );
    if (ours) {
      return false;
    }
    if (!Platform.IS_MAC && event.ctrlKey && !event.altKey && !event.metaKey) {
      // Ctrl+C with a selection copies (the browser's copy event) instead of sending ^C.
      if (event.key === 'c' && !event.shiftKey && this._term?.hasSelection()) {
        return false;
      }
      if (event.key === 'v' && !event.shiftKey && this._settings.pasteWithCtrlV) {
        return false;
      }
    }
    return true;
  }

  private _type(data: string): void {
    if (/[\r\x03\x04\x1a]/.test(data)) {
      this._poke?.();
    }
    const result = this._channel.send(data);
    if (result === 'refused') {
      this._notice(
        this._channel.state === 'closed'
          ? this._trans.__('Not sent: this pane is not connected.')
          : this._trans.__('Not sent: too much typed while disconnected.'),
        'error'
      );
    }
  }

  private _onBufferChanged(_: PaneChannel, size: number): void {
    if (size > 0) {
      this._notice(
        this._trans._n(
          '%1 character typed while disconnected; it is sent on reconnect.',
          '%1 characters typed while disconnected; they are sent on reconnect.',
          size
        ),
        'warning',
        0
      );
    } else if (this._noticeKind === 'warning') {
      this._notice('', 'info');
    }
  }

  private _scheduleFit(): void {
    if (this._fitFrame !== 0) {
      return;
    }
    this._fitFrame = requestAnimationFrame(() => {
      this._fitFrame = 0;
      this._fit();
    });
  }

  private _fit(): void {
    const term = this._term;
    if (term === null || this._fitAddon === null || !this.isVisible) {
      return;
    }
    if (this._body.clientWidth === 0 || this._body.clientHeight === 0) {
      return;
    }
    try {
      this._fitAddon.fit();
    } catch (error) {
      // fit() reads the renderer's cell size, which is not known for a moment after open.
      console.debug('jupyter-spaces: fit failed', error);
      return;
    }
    if (term.rows !== this._rows || term.cols !== this._cols) {
      this._rows = term.rows;
      this._cols = term.cols;
      this._redrawAt = Date.now();
    }
    this._channel.resize(term.rows, term.cols);
  }

  private _buildHeader(): void {
    const header = document.createElement('div');
    header.className = 'jp-Spaces-paneHeader';

    this._title = document.createElement('span');
    this._title.className = 'jp-Spaces-paneTitle';
    this._title.addEventListener('dblclick', () => this._run(CommandIDs.renamePane));

    this._kind = document.createElement('span');
    this._kind.className = 'jp-Spaces-paneKind';

    this._state = document.createElement('span');
    this._state.className = 'jp-Spaces-state';

    this._agentState = createAgentBadge();
    this._activity = createActivity();

    this._connection = document.createElement('button');
    this._connection.className = 'jp-Spaces-connection';
    this._connection.addEventListener('click', () => this.reconnect());

    this._noticeNode = document.createElement('span');
    this._noticeNode.className = 'jp-Spaces-notice';
    this._noticeNode.addEventListener('click', () => this._notice('', 'info'));

    const spacer = document.createElement('span');
    spacer.className = 'jp-Spaces-spacer';

    this._actions = document.createElement('span');
    this._actions.className = 'jp-Spaces-paneActions';
    const button = (action: string, command: string, icon: LabIcon): HTMLButtonElement => {
      const b = document.createElement('button');
      b.className = 'jp-Spaces-paneButton';
      b.dataset.action = action;
      b.dataset.command = command;
      icon.element({ container: b, tag: null });
      // Keep focus in the terminal: a click on the header is not a wish to type there.
      b.addEventListener('mousedown', e => e.preventDefault());
      b.addEventListener('click', e => {
        e.stopPropagation();
        if (b.getAttribute('aria-disabled') !== 'true') {
          this._run(command);
        }
      });
      this._actions.appendChild(b);
      return b;
    };
    // Command panes: whether the command runs again by itself after a machine restart.
    const auto = (this._autorestart = document.createElement('button'));
    auto.className = 'jp-Spaces-autorestart';
    auto.dataset.action = 'autorestart';
    auto.dataset.command = CommandIDs.toggleAutorestart;
    auto.addEventListener('mousedown', e => e.preventDefault());
    auto.addEventListener('click', e => {
      e.stopPropagation();
      if (auto.getAttribute('aria-disabled') !== 'true') {
        this._run(CommandIDs.toggleAutorestart);
      }
    });
    this._actions.appendChild(auto);
    button('split-right', CommandIDs.splitRight, splitRightIcon);
    button('split-down', CommandIDs.splitDown, splitDownIcon);
    button('restart', CommandIDs.restartPane, refreshIcon);
    this._maximizeButton = button('maximize', CommandIDs.toggleMaximize, maximizeIcon);
    button('close', CommandIDs.closePane, closeIcon);

    // Every action, also when the buttons are collapsed: "⋯", or a right-click on the header.
    const more = document.createElement('button');
    more.className = 'jp-Spaces-paneMore';
    more.dataset.action = 'more';
    more.textContent = '⋯';
    more.title = this._trans.__('Pane actions');
    more.setAttribute('aria-label', this._trans.__('Pane actions'));
    more.setAttribute('aria-haspopup', 'menu');
    more.addEventListener('mousedown', e => e.preventDefault());
    more.addEventListener('click', e => {
      e.stopPropagation();
      const r = more.getBoundingClientRect();
      this.openMenu(r.left, r.bottom);
    });
    header.addEventListener('contextmenu', e => {
      e.preventDefault();
      e.stopPropagation();
      this.openMenu(e.clientX, e.clientY);
    });

    header.append(
      this._title,
      this._kind,
      this._state,
      this._agentState,
      this._activity,
      this._connection,
      this._noticeNode,
      spacer,
      this._actions,
      more
    );
    this.node.appendChild(header);
  }

  /** The agent session's title (from the session index), if the pane's model knows it. */
  private _sessionTitle(): string | null {
    return this._titleOf?.(this._pane) ?? null;
  }

  /** The pane's actions as a menu at (x, y): the "⋯" button and the header's context menu. */
  openMenu(x: number, y: number): void {
    this._menu?.dispose();
    const menu = (this._menu = new Menu({ commands: this._commands }));
    menu.addClass('jp-Spaces-paneMenu');
    const args = { spaceId: this.spaceId, paneId: this.paneId };
    let pendingSeparator = false;
    for (const command of PANE_MENU) {
      if (command === null) {
        pendingSeparator = menu.items.length > 0;
        continue;
      }
      if (command === CommandIDs.toggleAutorestart && this._pane.kind !== 'command') {
        continue;
      }
      if (this._readOnly && command !== CommandIDs.toggleMaximize) {
        continue;
      }
      if (pendingSeparator) {
        menu.addItem({ type: 'separator' });
        pendingSeparator = false;
      }
      menu.addItem({ command, args });
    }
    menu.aboutToClose.connect(() => {
      // Back to the terminal, where the user was typing.
      requestAnimationFrame(() => this.activate());
    });
    menu.open(x, y);
  }

  /** Collapse the header's buttons into "⋯" when the pane is narrow. */
  private _checkNarrow(): void {
    const narrow = this.node.clientWidth > 0 && this.node.clientWidth < NARROW_PANE_PX;
    if (narrow !== this.hasClass('jp-mod-narrow')) {
      this.toggleClass('jp-mod-narrow', narrow);
      this.node.dataset.narrow = narrow ? 'true' : 'false';
    }
  }

  private _run(command: string): void {
    void this._commands
      .execute(command, { spaceId: this.spaceId, paneId: this.paneId })
      .catch(error => console.error(`jupyter-spaces: ${command} failed`, error));
  }

  private _renderHeader(): void {
    const pane = this._pane;
    const trans = this._trans;
    // An agent pane is named by its CLI ("Claude Code"), not by its kind ("agent").
    const kind = paneKindLabel(pane);
    const named = paneName(pane, kind, this._sessionTitle());
    this._title.textContent = named.title;
    this._title.dataset.source = named.source;
    this.node.dataset.title = named.title;
    const where = pane.cwd ? `${pane.cwd}/` : './';
    this._title.title = [
      pane.title,
      pane.kind === 'command' ? pane.argv.join(' ') : '',
      pane.kind === 'agent' ? trans.__('%1 session %2', kind, pane.session_id ?? trans.__('(id not known yet)')) : '',
      trans.__('in %1', where),
      this._programTitle ? trans.__('program title: %1', this._programTitle) : '',
      named.source === 'program' ? trans.__('follows the program in its foreground until renamed') : '',
      trans.__('double-click to rename')
    ]
      .filter(Boolean)
      .join('\n');
    this._kind.textContent = kind;
    // "shell shell" says nothing twice: show the kind only beside a title of its own.
    this._kind.hidden = named.title === kind;
    this.node.dataset.kind = pane.kind;
    if (pane.agent) {
      this.node.dataset.agent = pane.agent;
    } else {
      delete this.node.dataset.agent;
    }

    let state: string;
    if (pane.state === 'exited') {
      state = pane.exit_signal
        ? trans.__('exited (%1)', pane.exit_signal)
        : trans.__('exited %1', pane.exit_code ?? '?');
    } else if (pane.state === 'gone') {
      state = trans.__('gone');
    } else {
      state = trans.__('running');
    }
    this._state.textContent = state;
    this._state.dataset.state = pane.state;
    const agentState = renderAgentBadge(this._agentState, pane, trans);
    if (agentState !== null) {
      this.node.dataset.agentState = agentState;
    } else {
      delete this.node.dataset.agentState;
    }
    // "running" beside "working" says nothing: an agent's badge stands for it.
    this._state.hidden = agentState !== null && pane.state === 'running';
    renderActivity(this._activity, pane, trans, Date.now(), this._lastOutput);
    this._state.title =
      pane.state === 'running' && pane.pid !== null
        ? trans.__('pid %1', pane.pid)
        : pane.state === 'gone'
          ? trans.__('Its tmux session has ended; restart to run it again.')
          : '';
    this.node.dataset.state = pane.state;

    const conn = this._channel.state;
    this.node.dataset.connection = conn;
    this._connection.dataset.connection = conn;
    this._connection.hidden =
      !this._connectRequested || conn === 'open' || (conn === 'closed' && pane.state === 'gone');
    this._connection.textContent =
      conn === 'connecting'
        ? trans.__('connecting…')
        : conn === 'reconnecting'
          ? trans.__('reconnecting…')
          : conn === 'closed'
            ? trans.__('disconnected')
            : '';
    this._connection.title =
      conn === 'closed'
        ? `${this._channel.closeReason}\n${trans.__('Click to connect again.')}`
        : conn === 'reconnecting'
          ? trans.__('Connection lost; retrying. Click to retry now.')
          : '';

    for (const b of Array.from(this._actions.children) as HTMLButtonElement[]) {
      const command = b.dataset.command!;
      const mutates = command !== CommandIDs.toggleMaximize;
      b.hidden = mutates && this._readOnly;
      const keys = this._commands.keyBindings.find(k => k.command === command)?.keys;
      const label = this._commands.label(command, { spaceId: this.spaceId, paneId: this.paneId });
      b.title = keys ? `${label} (${keys.map(CommandRegistry.formatKeystroke).join(', ')})` : label;
      b.setAttribute('aria-label', label);
      // An untrusted space refuses changes: say why on the buttons rather than fail on click.
      const locked = mutates && this._locked !== null;
      b.classList.toggle('jp-mod-disabled', locked);
      if (locked) {
        b.setAttribute('aria-disabled', 'true');
        b.title = `${label}: ${this._locked}`;
      } else {
        b.removeAttribute('aria-disabled');
      }
    }
    const on = pane.autorestart === true;
    const auto = this._autorestart;
    auto.hidden = pane.kind !== 'command' || this._readOnly;
    auto.dataset.on = on ? 'true' : 'false';
    auto.setAttribute('aria-pressed', on ? 'true' : 'false');
    auto.textContent = on ? trans.__('auto-restart on') : trans.__('auto-restart off');
    if (this._locked === null) {
      auto.title = on
        ? trans.__('After a machine restart this command runs again by itself. Click to make it wait for Enter instead.')
        : trans.__('After a machine restart this command waits for Enter. Click to have it run again by itself.');
    }
    const icon = this._maximized ? restoreIcon : maximizeIcon;
    this._maximizeButton.replaceChildren();
    icon.element({ container: this._maximizeButton, tag: null });
  }

  private _onConnectionChanged(): void {
    if (this._channel.state === 'open') {
      this._redrawAt = Date.now();
    }
    this._renderHeader();
  }

  /** Only what ages with time: cheap enough for every pane every few seconds. */
  private _renderAges(): void {
    if (!this.isVisible) {
      return;
    }
    renderAgentBadge(this._agentState, this._pane, this._trans);
    renderActivity(this._activity, this._pane, this._trans, Date.now(), this._lastOutput);
  }

  private _notice(text: string, kind: 'info' | 'warning' | 'error', ms = NOTICE_MS): void {
    window.clearTimeout(this._noticeTimer);
    this._noticeKind = text ? kind : null;
    this._noticeNode.textContent = text;
    this._noticeNode.title = text;
    this._noticeNode.dataset.kind = kind;
    this._noticeNode.hidden = !text;
    if (text && ms > 0) {
      this._noticeTimer = window.setTimeout(() => this._notice('', 'info'), ms);
    }
  }

  private _pane: IPane;
  private _api: SpacesAPI;
  private _commands: CommandRegistry;
  private _settings: ITerminalSettings;
  private _trans: TranslationBundle;
  private _readOnly: boolean;
  private _locked: string | null;
  private _maximized = false;
  private _connectRequested = false;
  private _channel: PaneChannel;
  private _term: Terminal | null = null;
  private _fitAddon: FitAddon | null = null;
  private _fitFrame = 0;
  private _resizeObserver: ResizeObserver | null = null;
  private _programTitle = '';
  private _body: HTMLDivElement;
  private _title!: HTMLSpanElement;
  private _kind!: HTMLSpanElement;
  private _state!: HTMLSpanElement;
  private _agentState!: HTMLSpanElement;
  private _activity!: HTMLSpanElement;
  private _ageTimer = 0;
  private _rows = 0;
  private _cols = 0;
  /** When the channel last opened or the terminal was resized (a redraw follows at once). */
  private _redrawAt = 0;
  /** When this browser last saw the program print (ms), or null. */
  private _lastOutput: number | null = null;
  private _connection!: HTMLButtonElement;
  private _noticeNode!: HTMLSpanElement;
  private _noticeKind: string | null = null;
  private _noticeTimer = 0;
  private _actions!: HTMLSpanElement;
  private _maximizeButton!: HTMLButtonElement;
  private _autorestart!: HTMLButtonElement;
  private _focused = new Signal<this, void>(this);
  private _narrowObserver: ResizeObserver;
  private _titleOf: ((pane: IPane) => string | null) | null;
  private _poke: (() => void) | null;
  private _menu: Menu | null = null;
}
