/**
 * jupyter-spaces for JupyterLab: the plugins.
 *
 * - `jupyter-spaces:plugin` owns the model of the user's spaces (kept live from the server's
 *   event bus), the space views in the main area with their tracker and layout restorer (open
 *   spaces come back after a reload), the commands and their palette entries, and the
 *   terminal settings and theme;
 * - `jupyter-spaces:sidebar` adds the Spaces panel to the left sidebar.
 */

import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ILayoutRestorer } from '@jupyterlab/application';
import { ICommandPalette, IThemeManager, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import type { FileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandToolbarButton, editIcon, terminalIcon, runIcon } from '@jupyterlab/ui-components';

import { SpacesAPI } from './api';
import { PALETTE_COMMANDS, addCommands } from './commands';
import { spacesIcon } from './icons';
import { SpacesModel } from './model';
import { SessionsModel } from './sessions';
import { SpacesSidebar } from './sidebar';
import { SpaceView } from './spaceview';
import type { ITerminalSettings } from './tokens';
import { CommandIDs, DEFAULT_SETTINGS, ISpaces, PLUGIN_ID } from './tokens';

const TRACKER_NAMESPACE = 'jupyter-spaces';

/** The settings as the schema describes them, defaults for anything missing or odd. */
function readSettings(composite: Record<string, unknown>): ITerminalSettings {
  const out: ITerminalSettings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as Array<keyof ITerminalSettings>) {
    const value = composite[key];
    const fallback = DEFAULT_SETTINGS[key];
    if (value === undefined) {
      continue;
    }
    if (key === 'historyLines' ? value === null || typeof value === 'number' : typeof value === typeof fallback) {
      (out as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}

function folderOf(browser: FileBrowser | null): string | null {
  if (browser === null) {
    return null;
  }
  // Paths of other drives look like "Drive:dir/sub"; spaces live on the server's own files.
  const path = browser.model.path;
  return path.includes(':') ? path.slice(path.indexOf(':') + 1) : path;
}

const plugin: JupyterFrontEndPlugin<ISpaces> = {
  id: PLUGIN_ID,
  description: 'Durable terminal panes in spaces: views, commands and settings.',
  autoStart: true,
  provides: ISpaces,
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer, IThemeManager, ITranslator, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    themeManager: IThemeManager | null,
    translator: ITranslator | null,
    browser: FileBrowser | null
  ): ISpaces => {
    const trans = (translator ?? nullTranslator).load('jupyter_spaces');
    const model = new SpacesModel({
      api: new SpacesAPI(app.serviceManager.serverSettings),
      events: app.serviceManager.events
    });
    void model.refresh();
    const tracker = new WidgetTracker<MainAreaWidget<SpaceView>>({ namespace: TRACKER_NAMESPACE });
    let settings: ITerminalSettings = { ...DEFAULT_SETTINGS };

    const openSpace = async (
      spaceId: string,
      options: { paneId?: string; activate?: boolean } = {}
    ): Promise<MainAreaWidget<SpaceView> | null> => {
      let widget = tracker.find(w => w.content.spaceId === spaceId) ?? null;
      if (widget === null) {
        const known = model.space(spaceId) ?? (await model.refreshSpace(spaceId).catch(() => null));
        if (!known) {
          return null;
        }
        // A second open while the first awaited: use the view it made.
        widget = tracker.find(w => w.content.spaceId === spaceId) ?? null;
      }
      if (widget === null) {
        const content = new SpaceView({ spaceId, model, commands: app.commands, settings, trans });
        const w = new MainAreaWidget({ content });
        widget = w;
        w.id = `jp-Spaces-space-${spaceId}`;
        w.addClass('jp-Spaces-tab');
        w.title.icon = spacesIcon;
        w.title.closable = true;
        const args = { spaceId };
        w.toolbar.addItem(
          'new-shell',
          new CommandToolbarButton({ commands: app.commands, id: CommandIDs.newShell, args, icon: terminalIcon, label: trans.__('Shell') })
        );
        w.toolbar.addItem(
          'new-command',
          new CommandToolbarButton({ commands: app.commands, id: CommandIDs.newCommand, args, icon: runIcon, label: trans.__('Command') })
        );
        w.toolbar.addItem(
          'rename',
          new CommandToolbarButton({ commands: app.commands, id: CommandIDs.renameSpace, args, icon: editIcon })
        );
        // Closing the tab leaves the panes running (that is the point); deleting the space
        // closes the tab.
        content.deleted.connect(() => w.dispose());
        app.shell.add(w, 'main');
        await tracker.add(w);
      }
      const opened: MainAreaWidget<SpaceView> = widget;
      if (options.activate !== false) {
        app.shell.activateById(opened.id);
      }
      if (options.paneId !== undefined) {
        opened.content.activatePane(options.paneId);
      }
      return opened;
    };

    addCommands({
      app,
      model,
      tracker,
      trans,
      settings: () => settings,
      openSpace,
      currentFolder: () => folderOf(browser)
    });

    if (palette !== null) {
      const category = trans.__('Spaces');
      for (const command of PALETTE_COMMANDS) {
        palette.addItem({ command, category });
      }
    }

    if (restorer !== null) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: w => ({ spaceId: w.content.spaceId, activate: false }),
        name: w => w.content.spaceId
      });
    }

    if (settingRegistry !== null) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const apply = () => {
            settings = readSettings(loaded.composite as Record<string, unknown>);
            tracker.forEach(w => w.content.applySettings(settings));
          };
          apply();
          loaded.changed.connect(apply);
        })
        .catch(error => console.error('jupyter-spaces: settings could not be loaded', error));
    }

    // Terminal colours are computed from the theme's CSS variables, so recompute them.
    themeManager?.themeChanged.connect(() => tracker.forEach(w => w.content.applyTheme()));

    return { model, tracker };
  }
};

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-spaces:sidebar',
  description: 'The Spaces panel in the left sidebar, with the agent sessions search.',
  autoStart: true,
  requires: [ISpaces],
  optional: [ILayoutRestorer, ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    spaces: ISpaces,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyter_spaces');
    const sessions = new SessionsModel({ api: spaces.model.api, events: app.serviceManager.events });
    const sidebar = new SpacesSidebar({ model: spaces.model, sessions, commands: app.commands, trans });
    sidebar.disposed.connect(() => sessions.dispose());
    app.shell.add(sidebar, 'left', { rank: 350 });
    restorer?.add(sidebar, 'jupyter-spaces-sidebar');

    app.commands.addCommand(CommandIDs.searchSessions, {
      label: trans.__('Search Agent Sessions'),
      caption: trans.__('Search the Claude Code, Codex and Gemini CLI sessions on the server'),
      execute: () => {
        app.shell.activateById(sidebar.id);
        sidebar.focusSessionSearch();
      }
    });
    palette?.addItem({ command: CommandIDs.searchSessions, category: trans.__('Spaces') });
  }
};

export default [plugin, sidebarPlugin];
export { ISpaces } from './tokens';
