/**
 * The Spaces panel in the left sidebar, in two sections: every space with its folder, its
 * panes and each pane's state (and agent state; per space, how many panes need the user), redrawn from the model as the server announces changes; and
 * the agent sessions found on the server, searchable and resumable (sessions.ts).
 *
 * Plain DOM, redrawn whole on each change: a person has a handful of spaces with at most 16
 * panes each, and a full redraw keeps the panel a pure function of the model. Every action is
 * a command, so the panel, the palette and the shortcuts share one implementation.
 */

import type { TranslationBundle } from '@jupyterlab/translation';
import {
  addIcon,
  deleteIcon,
  editIcon,
  listIcon,
  refreshIcon,
  runIcon,
  terminalIcon
} from '@jupyterlab/ui-components';
import type { LabIcon } from '@jupyterlab/ui-components';
import { SidePanel } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import type { ReadonlyJSONObject } from '@lumino/coreutils';
import type { Message } from '@lumino/messaging';
import type { AccordionPanel } from '@lumino/widgets';
import { Widget } from '@lumino/widgets';

import { createAgentBadge, needsInputBadge, renderAgentBadge } from './agentbadge';
import { needsInputCount } from './agentstate';
import type { IPane, ISpace } from './api';
import { AGENT_ICONS, snapshotIcon, spacesIcon } from './icons';
import { agentAvailability, paneName } from './paneident';
import type { SpacesModel } from './model';
import type { SessionsModel } from './sessions';
import { SessionsPanel } from './sessions';
import { paneKindLabel } from './sessionutils';
import { UNTRUSTED_MESSAGE, isUntrusted } from './snapshotutils';
import { CommandIDs } from './tokens';

const AGENT_COMMANDS: Array<[string, string]> = [
  ['claude', CommandIDs.newClaude],
  ['codex', CommandIDs.newCodex],
  ['gemini', CommandIDs.newGemini]
];

export interface ISpacesSidebarOptions {
  model: SpacesModel;
  /** The agent sessions search; without it, the panel has no Sessions section. */
  sessions?: SessionsModel | null;
  commands: CommandRegistry;
  trans: TranslationBundle;
}

/** The sidebar: the Spaces section above the Agent Sessions section, each collapsible. */
export class SpacesSidebar extends SidePanel {
  constructor(options: ISpacesSidebarOptions) {
    super();
    this.id = 'jp-Spaces-sidebar';
    this.addClass('jp-Spaces-sidebar');
    this.title.icon = spacesIcon;
    this.title.caption = options.trans.__('Spaces');
    this.spacesSection = new SpacesSection(options);
    this.addWidget(this.spacesSection);
    this.sessionsSection =
      options.sessions !== undefined && options.sessions !== null
        ? new SessionsPanel({
            model: options.sessions,
            spaces: options.model,
            commands: options.commands,
            trans: options.trans
          })
        : null;
    if (this.sessionsSection !== null) {
      this.addWidget(this.sessionsSection);
    }
  }

  readonly spacesSection: SpacesSection;
  readonly sessionsSection: SessionsPanel | null;

  /** Open the Sessions section (if it was collapsed) and put the cursor in its search box. */
  focusSessionSearch(): void {
    const section = this.sessionsSection;
    if (section === null) {
      return;
    }
    const accordion = this.content as AccordionPanel;
    const index = accordion.widgets.indexOf(section);
    if (index >= 0 && !section.isVisible && typeof accordion.expand === 'function') {
      accordion.expand(index);
    }
    section.focusSearch();
    // Activating the sidebar finishes on the next frame and may take the focus back.
    requestAnimationFrame(() => {
      if (!section.node.contains(document.activeElement)) {
        section.focusSearch();
      }
    });
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this._sized && this.sessionsSection !== null) {
      // The sessions list is the longer one: give it the larger share at first.
      this._sized = true;
      (this.content as AccordionPanel).setRelativeSizes?.([0.4, 0.6]);
    }
  }

  private _sized = false;
}

/** The Spaces section: the spaces, their panes and the panes' states. */
export class SpacesSection extends Widget {
  constructor(options: ISpacesSidebarOptions) {
    super();
    this._model = options.model;
    this._commands = options.commands;
    this._trans = options.trans;
    this.id = 'jp-Spaces-spacesSection';
    this.addClass('jp-Spaces-spacesSection');
    this.title.label = this._trans.__('Spaces');
    this._model.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    this._model.changed.disconnect(this._render, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    // The panel may have been hidden through many changes; make sure it is current.
    void this._model.refresh();
  }

  private _render(): void {
    const trans = this._trans;
    const model = this._model;
    const scroll = this._list?.scrollTop ?? 0;
    // The list is drawn anew: keep the keyboard's place in it.
    const focused = this._list?.contains(document.activeElement) ? rowKey(document.activeElement as HTMLElement) : null;
    const root = document.createElement('div');
    root.className = 'jp-Spaces-sidebarContent';

    const header = document.createElement('div');
    header.className = 'jp-Spaces-sidebarHeader';
    // The section's title says "Spaces"; the header holds its actions.
    const spacer = document.createElement('span');
    spacer.className = 'jp-Spaces-spacer';
    header.appendChild(spacer);
    header.appendChild(this._button('create-space', CommandIDs.createSpace, {}, addIcon, trans.__('New space… (asks for the folder and the name)')));
    header.appendChild(this._button('refresh', CommandIDs.refresh, {}, refreshIcon));
    root.appendChild(header);

    const host = model.host;
    if (host !== null && !host.durable) {
      root.appendChild(
        this._banner(
          'jp-Spaces-hostWarning',
          trans.__('Panes cannot start: %1', host.message ?? trans.__('tmux is not available on the server.'))
        )
      );
    } else if (host !== null && host.unknown_sessions.length > 0) {
      root.appendChild(
        this._banner(
          'jp-Spaces-hostInfo',
          trans._n(
            '%1 tmux session belongs to no known space (left running).',
            '%1 tmux sessions belong to no known space (left running).',
            host.unknown_sessions.length
          )
        )
      );
    }
    if (model.error !== null) {
      root.appendChild(this._banner('jp-Spaces-error', trans.__('Could not list the spaces: %1', model.error)));
    }

    const list = (this._list = document.createElement('ul'));
    list.className = 'jp-Spaces-list';
    list.setAttribute('role', 'tree');
    list.setAttribute('aria-label', trans.__('Spaces'));
    const spaces = model.spaces;
    for (const space of spaces) {
      list.appendChild(this._space(space));
    }
    root.appendChild(list);
    if (spaces.length === 0 && model.loaded) {
      const empty = document.createElement('p');
      empty.className = 'jp-Spaces-emptyList';
      empty.textContent = trans.__(
        'No spaces yet. Open a folder in the file browser and create a space for it with +.'
      );
      root.appendChild(empty);
    }
    this.node.replaceChildren(root);
    list.scrollTop = scroll;
    list.addEventListener('keydown', event => this._onKey(event));
    const rows = this._rows();
    const again = focused === null ? undefined : rows.find(r => rowKey(r) === focused);
    (again ?? rows[0])?.setAttribute('tabindex', '0');
    again?.focus();
  }

  /** The keyboard's stops, in order: each space's row, then its panes. */
  private _rows(): HTMLElement[] {
    return Array.from(this._list?.querySelectorAll<HTMLElement>('.jp-Spaces-spaceRow, .jp-Spaces-paneItem') ?? []);
  }

  /**
   * Arrow keys move between rows (one tab stop for the list, as in JupyterLab's file browser and
   * VS Code's trees), Home/End jump, Enter or Space opens the space or the pane, Delete asks to
   * delete a space, F2 renames.
   */
  private _onKey(event: KeyboardEvent): void {
    const rows = this._rows();
    const current = (event.target as HTMLElement).closest<HTMLElement>('.jp-Spaces-spaceRow, .jp-Spaces-paneItem');
    const i = current === null ? -1 : rows.indexOf(current);
    let next: HTMLElement | undefined;
    switch (event.key) {
      case 'ArrowDown':
        next = rows[Math.min(i + 1, rows.length - 1)];
        break;
      case 'ArrowUp':
        next = rows[Math.max(i - 1, 0)];
        break;
      case 'Home':
        next = rows[0];
        break;
      case 'End':
        next = rows[rows.length - 1];
        break;
      case 'Enter':
      case ' ':
        if (current !== null && event.target === current) {
          current.click();
          event.preventDefault();
        }
        return;
      case 'F2':
      case 'Delete': {
        const spaceId = current?.closest<HTMLElement>('.jp-Spaces-space')?.dataset.spaceId;
        if (spaceId !== undefined && current?.classList.contains('jp-Spaces-spaceRow')) {
          const command = event.key === 'F2' ? CommandIDs.renameSpace : CommandIDs.deleteSpace;
          void this._commands.execute(command, { spaceId });
          event.preventDefault();
        }
        return;
      }
      default:
        return;
    }
    event.preventDefault();
    if (next !== undefined) {
      rows.forEach(r => r.setAttribute('tabindex', '-1'));
      next.setAttribute('tabindex', '0');
      next.focus();
    }
  }

  private _space(space: ISpace): HTMLLIElement {
    const trans = this._trans;
    const args = { spaceId: space.id };
    const li = document.createElement('li');
    li.className = 'jp-Spaces-space';
    li.dataset.spaceId = space.id;
    li.dataset.status = space.status;

    const row = document.createElement('div');
    row.className = 'jp-Spaces-spaceRow';
    row.tabIndex = -1;
    row.setAttribute('role', 'treeitem');
    row.setAttribute('aria-label', trans.__('Space %1 in %2', space.name, space.path || '/'));
    row.title = trans.__('Open %1', space.name);
    row.addEventListener('click', () => void this._commands.execute(CommandIDs.open, args));

    const name = document.createElement('span');
    name.className = 'jp-Spaces-spaceName';
    name.textContent = space.name;
    const path = document.createElement('span');
    path.className = 'jp-Spaces-spacePath';
    path.textContent = space.path ? `${space.path}/` : '/';
    const text = document.createElement('span');
    text.className = 'jp-Spaces-spaceText';
    text.append(name, path);
    row.appendChild(text);

    const waiting = needsInputBadge(needsInputCount(space), trans);
    li.dataset.needsInput = String(needsInputCount(space));
    if (waiting !== null) {
      row.appendChild(waiting);
    }

    if (space.status !== 'ok' || space.read_only) {
      const status = document.createElement('span');
      status.className = 'jp-Spaces-spaceStatus';
      status.dataset.status = space.status;
      status.textContent = space.status === 'ok' ? trans.__('read-only') : space.status;
      status.title = space.message ?? '';
      row.appendChild(status);
    }

    const untrusted = isUntrusted(space);
    li.dataset.trusted = untrusted ? 'false' : 'true';
    // What an untrusted space cannot do is shown, disabled, with the reason as its tooltip.
    const locked = untrusted ? trans.__(UNTRUSTED_MESSAGE) : null;
    const actions = document.createElement('span');
    actions.className = 'jp-Spaces-spaceActions';
    if (!space.read_only) {
      actions.appendChild(this._button('new-shell', CommandIDs.newShell, args, terminalIcon, undefined, locked));
      // Beside Shell, one per agent CLI: greyed, with the install command, when it is missing.
      for (const [agent, command] of AGENT_COMMANDS) {
        const reason = locked ?? agentAvailability(this._model.agents, agent).reason;
        actions.appendChild(this._button(`new-${agent}`, command, args, AGENT_ICONS[agent], undefined, reason));
      }
      actions.appendChild(this._button('new-command', CommandIDs.newCommand, args, runIcon, undefined, locked));
      actions.appendChild(this._button('rename-space', CommandIDs.renameSpace, args, editIcon, undefined, locked));
    }
    if (space.status === 'ok') {
      actions.appendChild(this._button('take-snapshot', CommandIDs.takeSnapshot, args, snapshotIcon));
      actions.appendChild(this._button('snapshots', CommandIDs.openSnapshots, args, listIcon));
    }
    actions.appendChild(this._button('delete-space', CommandIDs.deleteSpace, args, deleteIcon));
    row.appendChild(actions);
    li.appendChild(row);

    if (untrusted) {
      li.appendChild(this._trustBanner(space));
    }

    if (space.panes.length > 0) {
      const panes = document.createElement('ul');
      panes.className = 'jp-Spaces-paneList';
      for (const pane of space.panes) {
        panes.appendChild(this._pane(space, pane));
      }
      li.appendChild(panes);
    }
    return li;
  }

  private _pane(space: ISpace, pane: IPane): HTMLLIElement {
    const trans = this._trans;
    const li = document.createElement('li');
    li.className = 'jp-Spaces-paneItem';
    li.dataset.paneId = pane.id;
    li.tabIndex = -1;
    li.setAttribute('role', 'treeitem');
    li.dataset.state = pane.state;
    const kindLabel = paneKindLabel(pane);
    li.title =
      pane.kind === 'command'
        ? pane.argv.join(' ') + (pane.autorestart ? `\n${trans.__('restarts automatically after a machine restart')}` : '')
        : pane.kind === 'agent'
          ? trans.__('%1 session %2', kindLabel, pane.session_id ?? trans.__('(id not known yet)'))
          : trans.__('shell');
    li.addEventListener('click', () =>
      void this._commands.execute(CommandIDs.open, { spaceId: space.id, paneId: pane.id })
    );
    const title = document.createElement('span');
    title.className = 'jp-Spaces-paneItemTitle';
    const named = paneName(pane, kindLabel, this._model.sessionTitle(pane));
    title.textContent = named.title;
    title.dataset.source = named.source;
    li.dataset.title = named.title;
    const kind = document.createElement('span');
    kind.className = 'jp-Spaces-paneKind';
    kind.textContent = kindLabel;
    kind.hidden = named.title === kindLabel;
    const state = document.createElement('span');
    state.className = 'jp-Spaces-state';
    state.dataset.state = pane.state;
    state.textContent =
      pane.state === 'exited'
        ? pane.exit_signal
          ? trans.__('exited (%1)', pane.exit_signal)
          : trans.__('exited %1', pane.exit_code ?? '?')
        : pane.state === 'gone'
          ? trans.__('gone')
          : trans.__('running');
    const agentState = createAgentBadge();
    if (renderAgentBadge(agentState, pane, trans) !== null) {
      li.dataset.agentState = pane.agent_state ?? '';
      // While it runs, the agent's state says more than "running".
      state.hidden = pane.state === 'running';
    }
    li.append(title, kind, state, agentState);
    return li;
  }

  private _button(
    action: string,
    command: string,
    args: ReadonlyJSONObject,
    icon: LabIcon,
    label?: string,
    disabledReason: string | null = null
  ): HTMLButtonElement {
    const b = document.createElement('button');
    b.className = 'jp-Spaces-iconButton';
    b.dataset.action = action;
    const text = label ?? this._commands.label(command, args);
    b.title = disabledReason !== null ? `${text}: ${disabledReason}` : text;
    b.setAttribute('aria-label', text);
    if (disabledReason !== null) {
      // aria-disabled rather than disabled: a disabled button shows no tooltip in some
      // browsers, and the tooltip is the reason.
      b.setAttribute('aria-disabled', 'true');
      b.classList.add('jp-mod-disabled');
    }
    icon.element({ container: b, tag: null });
    b.addEventListener('click', event => {
      event.stopPropagation();
      if (disabledReason === null) {
        void this._commands.execute(command, args);
      }
    });
    return b;
  }

  /** "Nothing in it runs until you trust it", with the Trust button. */
  private _trustBanner(space: ISpace): HTMLElement {
    const trans = this._trans;
    const banner = document.createElement('div');
    banner.className = 'jp-Spaces-banner jp-Spaces-trustBanner';
    banner.dataset.kind = 'warning';
    banner.setAttribute('role', 'status');
    const text = document.createElement('span');
    text.className = 'jp-Spaces-trustBannerText';
    text.textContent = trans.__(UNTRUSTED_MESSAGE);
    const button = document.createElement('button');
    button.className = 'jp-mod-styled jp-mod-accept jp-Spaces-trustButton';
    button.dataset.action = 'trust-space';
    button.textContent = trans.__('Trust');
    button.title = this._commands.caption(CommandIDs.trustSpace, { spaceId: space.id });
    button.addEventListener('click', event => {
      event.stopPropagation();
      void this._commands.execute(CommandIDs.trustSpace, { spaceId: space.id });
    });
    banner.append(text, button);
    return banner;
  }

  private _banner(className: string, text: string): HTMLElement {
    const p = document.createElement('p');
    p.className = `jp-Spaces-banner ${className}`;
    p.textContent = text;
    return p;
  }

  private _model: SpacesModel;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
  private _list: HTMLUListElement | null = null;
}

/** What identifies a row across redraws: its space, and its pane for a pane row. */
function rowKey(el: HTMLElement | null): string | null {
  const row = el?.closest<HTMLElement>('.jp-Spaces-spaceRow, .jp-Spaces-paneItem');
  if (!row) {
    return null;
  }
  const space = row.closest<HTMLElement>('.jp-Spaces-space')?.dataset.spaceId ?? '';
  return row.classList.contains('jp-Spaces-paneItem') ? `${space}/${row.dataset.paneId}` : space;
}
