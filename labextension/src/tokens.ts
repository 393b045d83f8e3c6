/**
 * Names shared by the plugins: command ids, the settings, and the token through which the
 * sidebar plugin reaches the spaces model and the open views.
 */

import type { WidgetTracker, MainAreaWidget } from '@jupyterlab/apputils';
import { Token } from '@lumino/coreutils';

import type { SpacesModel } from './model';
import type { SpaceView } from './spaceview';
import type { ThemeChoice } from './theme';

/** The id of the main plugin; its settings live in schema/plugin.json. */
export const PLUGIN_ID = 'jupyter-spaces:plugin';

export namespace CommandIDs {
  export const open = 'jupyter-spaces:open';
  export const createSpace = 'jupyter-spaces:create-space';
  export const openSpaceHere = 'jupyter-spaces:open-space-here';
  export const showPanel = 'jupyter-spaces:show-panel';
  export const renameSpace = 'jupyter-spaces:rename-space';
  export const deleteSpace = 'jupyter-spaces:delete-space';
  export const refresh = 'jupyter-spaces:refresh';
  export const newShell = 'jupyter-spaces:new-shell-pane';
  export const newCommand = 'jupyter-spaces:new-command-pane';
  export const splitRight = 'jupyter-spaces:split-right';
  export const splitDown = 'jupyter-spaces:split-down';
  export const closePane = 'jupyter-spaces:close-pane';
  export const restartPane = 'jupyter-spaces:restart-pane';
  export const renamePane = 'jupyter-spaces:rename-pane';
  export const reconnectPane = 'jupyter-spaces:reconnect-pane';
  export const toggleMaximize = 'jupyter-spaces:toggle-maximize';
  export const focusNext = 'jupyter-spaces:focus-next-pane';
  export const focusPrevious = 'jupyter-spaces:focus-previous-pane';
  export const focusLeft = 'jupyter-spaces:focus-left-pane';
  export const focusRight = 'jupyter-spaces:focus-right-pane';
  export const focusUp = 'jupyter-spaces:focus-up-pane';
  export const focusDown = 'jupyter-spaces:focus-down-pane';
  export const newClaude = 'jupyter-spaces:new-claude-pane';
  export const newCodex = 'jupyter-spaces:new-codex-pane';
  export const newGemini = 'jupyter-spaces:new-gemini-pane';
  export const resumeSession = 'jupyter-spaces:resume-session';
  export const searchSessions = 'jupyter-spaces:search-sessions';
  export const trustSpace = 'jupyter-spaces:trust-space';
  export const takeSnapshot = 'jupyter-spaces:take-snapshot';
  export const openSnapshots = 'jupyter-spaces:open-snapshots';
  export const restoreSnapshot = 'jupyter-spaces:restore-snapshot';
  export const deleteSnapshot = 'jupyter-spaces:delete-snapshot';
  export const pruneSnapshots = 'jupyter-spaces:prune-snapshots';
  export const toggleAutorestart = 'jupyter-spaces:toggle-autorestart';
  export const enableDesktopNotifications = 'jupyter-spaces:enable-desktop-notifications';
}

/** Terminal settings (schema/plugin.json). */
export interface ITerminalSettings {
  fontFamily: string;
  fontSize: number;
  lineHeight: number;
  scrollback: number;
  cursorBlink: boolean;
  cursorStyle: 'block' | 'underline' | 'bar';
  theme: ThemeChoice;
  pasteWithCtrlV: boolean;
  macOptionIsMeta: boolean;
  /** Lines of history to ask for on (re)connect; null: the server's default. */
  historyLines: number | null;
  /** Ask before closing a pane whose program still runs. */
  confirmClose: boolean;
}

export const DEFAULT_SETTINGS: ITerminalSettings = {
  fontFamily: 'Menlo, Consolas, "DejaVu Sans Mono", monospace',
  fontSize: 13,
  lineHeight: 1.0,
  scrollback: 10000,
  cursorBlink: true,
  cursorStyle: 'block',
  theme: 'inherit',
  pasteWithCtrlV: true,
  macOptionIsMeta: false,
  historyLines: null,
  confirmClose: true
};

/** What the main plugin offers the others. */
export interface ISpaces {
  model: SpacesModel;
  tracker: WidgetTracker<MainAreaWidget<SpaceView>>;
}

export const ISpaces = new Token<ISpaces>(
  'jupyter-spaces:ISpaces',
  'The spaces model and the tracker of open space views.'
);
