/**
 * jupyter-spaces for JupyterLab: the plugins.
 *
 * - `jupyter-spaces:plugin` owns the model of the user's spaces (kept live from the server's
 *   event bus), the space views in the main area with their tracker and layout restorer (open
 *   spaces come back after a reload), the commands and their palette entries, and the
 *   terminal settings and theme;
 * - `jupyter-spaces:sidebar` adds the Spaces panel to the left sidebar;
 * - `jupyter-spaces:agent-notifications` tells the user when an agent pane needs them or ended a
 *   long turn (JupyterLab notifications, optional desktop ones, the count in the tab title).
 */

import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ILayoutRestorer } from '@jupyterlab/application';
import { ICommandPalette, IThemeManager, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import type { IDisposable } from '@lumino/disposable';
import type { FileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CommandToolbarButton, editIcon, listIcon, terminalIcon, runIcon } from '@jupyterlab/ui-components';

import { AgentNotifications, addDesktopNotificationsCommand } from './agentnotifications';
import { SpacesAPI } from './api';
import { PALETTE_COMMANDS, addCommands } from './commands';
import { AGENT_ICONS, snapshotIcon, spacesIcon } from './icons';
import { SpacesModel } from './model';
import { readNotifySettings } from './notifyrules';
import { SessionsModel } from './sessions';
import { SpacesSidebar } from './sidebar';
import { SnapshotsPanel } from './snapshots';
import { SpaceView } from './spaceview';
import { timelinePlugin } from './timeline';
import type { ITerminalSettings } from './tokens';
import { CommandIDs, DEFAULT_SETTINGS, ISpaces, PLUGIN_ID } from './tokens';

const TRACKER_NAMESPACE = 'jupyter-spaces';
const SNAPSHOTS_NAMESPACE = 'jupyter-spaces-snapshots';

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

/** A file browser path without its drive ("Drive:dir/sub"); spaces live on the server's own files. */
function localPath(path: string): string {
  return path.includes(':') ? path.slice(path.indexOf(':') + 1) : path;
}

function folderOf(browser: FileBrowser | null): string | null {
  return browser === null ? null : localPath(browser.model.path);
}

/** The folder selected in a file browser (the first selected folder), else the one it shows. */
function selectedFolderOf(browser: FileBrowser | null): string | null {
  if (browser === null) {
    return null;
  }
  for (const item of browser.selectedItems()) {
    if (item.type === 'directory') {
      return localPath(item.path);
    }
  }
  return folderOf(browser);
}

const AGENT_COMMANDS: Array<[string, string]> = [
  ['claude', CommandIDs.newClaude],
  ['codex', CommandIDs.newCodex],
  ['gemini', CommandIDs.newGemini]
];

const plugin: JupyterFrontEndPlugin<ISpaces> = {
  id: PLUGIN_ID,
  description: 'Durable terminal panes in spaces: views, commands and settings.',
  autoStart: true,
  provides: ISpaces,
  optional: [
    ISettingRegistry,
    ICommandPalette,
    ILayoutRestorer,
    IThemeManager,
    ITranslator,
    IDefaultFileBrowser,
    ILauncher,
    IDocumentManager,
    IFileBrowserFactory
  ],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    themeManager: IThemeManager | null,
    translator: ITranslator | null,
    browser: FileBrowser | null,
    launcher: ILauncher | null,
    docManager: IDocumentManager | null,
    browserFactory: IFileBrowserFactory | null
  ): ISpaces => {
    const trans = (translator ?? nullTranslator).load('jupyter_spaces');
    const model = new SpacesModel({
      api: new SpacesAPI(app.serviceManager.serverSettings),
      events: app.serviceManager.events
    });
    void model.refresh();
    const tracker = new WidgetTracker<MainAreaWidget<SpaceView>>({ namespace: TRACKER_NAMESPACE });
    const snapshotsTracker = new WidgetTracker<MainAreaWidget<SnapshotsPanel>>({ namespace: SNAPSHOTS_NAMESPACE });
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
        // Beside Shell, one per agent CLI: greyed, with the install command, when it is missing.
        for (const [agent, id] of AGENT_COMMANDS) {
          w.toolbar.addItem(
            `new-${agent}`,
            new CommandToolbarButton({
              commands: app.commands,
              id,
              args: { ...args, short: true },
              icon: AGENT_ICONS[agent],
              label: app.commands.label(id, { short: true })
            })
          );
        }
        w.toolbar.addItem(
          'new-command',
          new CommandToolbarButton({ commands: app.commands, id: CommandIDs.newCommand, args, icon: runIcon, label: trans.__('Command') })
        );
        w.toolbar.addItem(
          'rename',
          new CommandToolbarButton({ commands: app.commands, id: CommandIDs.renameSpace, args, icon: editIcon })
        );
        w.toolbar.addItem(
          'take-snapshot',
          new CommandToolbarButton({ commands: app.commands, id: CommandIDs.takeSnapshot, args, icon: snapshotIcon, label: trans.__('Snapshot') })
        );
        w.toolbar.addItem(
          'snapshots',
          new CommandToolbarButton({ commands: app.commands, id: CommandIDs.openSnapshots, args, icon: listIcon, label: trans.__('Snapshots') })
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

    const snapshotsPanel = (spaceId: string): SnapshotsPanel | null =>
      snapshotsTracker.find(w => w.content.spaceId === spaceId)?.content ?? null;

    const openSnapshots = async (
      spaceId: string,
      options: { activate?: boolean } = {}
    ): Promise<SnapshotsPanel | null> => {
      let widget = snapshotsTracker.find(w => w.content.spaceId === spaceId) ?? null;
      if (widget === null) {
        const known = model.space(spaceId) ?? (await model.refreshSpace(spaceId).catch(() => null));
        if (!known) {
          return null;
        }
        widget = snapshotsTracker.find(w => w.content.spaceId === spaceId) ?? null;
      }
      if (widget === null) {
        const content = new SnapshotsPanel({ spaceId, spaces: model, commands: app.commands, trans });
        const w = new MainAreaWidget({ content });
        widget = w;
        w.id = `jp-Spaces-snapshots-tab-${spaceId}`;
        w.addClass('jp-Spaces-snapshotsTab');
        w.title.icon = snapshotIcon;
        w.title.closable = true;
        content.title.changed.connect(() => {
          w.title.label = content.title.label;
          w.title.caption = content.title.caption;
        });
        w.title.label = content.title.label;
        w.title.caption = content.title.caption;
        content.deleted.connect(() => w.dispose());
        // Beside the space's view when it is open, else as a tab of its own.
        const view = tracker.find(v => v.content.spaceId === spaceId);
        app.shell.add(w, 'main', view ? { ref: view.id, mode: 'tab-after' } : undefined);
        await snapshotsTracker.add(w);
      }
      if (options.activate !== false) {
        app.shell.activateById(widget.id);
      }
      return widget.content;
    };

    addCommands({
      app,
      model,
      tracker,
      trans,
      settings: () => settings,
      openSpace,
      currentFolder: () => folderOf(browser),
      selectedFolder: () => selectedFolderOf(browserFactory?.tracker.currentWidget ?? browser),
      docManager,
      openSnapshots,
      snapshotsPanel
    });

    if (palette !== null) {
      const category = trans.__('Spaces');
      for (const command of PALETTE_COMMANDS) {
        palette.addItem({ command, category });
      }
    }

    // The launcher's Spaces section: a space for the launcher's folder, and each installed agent
    // CLI (in the space of that folder). Tiles follow what the server finds installed.
    if (launcher !== null) {
      const category = trans.__('Spaces');
      launcher.add({ command: CommandIDs.createSpace, args: { isLauncher: true }, category, rank: 0 });
      const tiles = new Map<string, IDisposable>();
      const syncTiles = () => {
        AGENT_COMMANDS.forEach(([agent, id], i) => {
          const installed = model.agents?.find(a => a.agent === agent)?.installed === true;
          if (installed && !tiles.has(agent)) {
            tiles.set(agent, launcher.add({ command: id, args: { isLauncher: true }, category, rank: i + 1 }));
          } else if (!installed && tiles.has(agent)) {
            tiles.get(agent)!.dispose();
            tiles.delete(agent);
          }
        });
      };
      model.changed.connect(syncTiles);
    }
    // The agent buttons grey out or light up with what the server finds installed.
    let agentsKey = '';
    model.changed.connect(() => {
      const key = JSON.stringify(model.agents);
      if (key !== agentsKey) {
        agentsKey = key;
        AGENT_COMMANDS.forEach(([, id]) => app.commands.notifyCommandChanged(id));
      }
    });

    if (restorer !== null) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: w => ({ spaceId: w.content.spaceId, activate: false }),
        name: w => w.content.spaceId
      });
      void restorer.restore(snapshotsTracker, {
        command: CommandIDs.openSnapshots,
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

    // View › Spaces Panel (schema/plugin.json puts it in the menu), as for the file browser.
    app.commands.addCommand(CommandIDs.showPanel, {
      label: trans.__('Spaces Panel'),
      caption: trans.__('Show the Spaces panel in the left sidebar'),
      icon: spacesIcon,
      execute: () => app.shell.activateById(sidebar.id)
    });
    palette?.addItem({ command: CommandIDs.showPanel, category: trans.__('Spaces') });
  }
};

const notificationsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-spaces:agent-notifications',
  description: 'Notifications when an agent pane needs the user or ended a long turn; the count in the tab title.',
  autoStart: true,
  requires: [ISpaces],
  optional: [ISettingRegistry, ITranslator, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    spaces: ISpaces,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyter_spaces');
    const notifications = new AgentNotifications({
      model: spaces.model,
      tracker: spaces.tracker,
      commands: app.commands,
      trans
    });
    addDesktopNotificationsCommand(app.commands, settingRegistry, notifications, trans);
    palette?.addItem({ command: CommandIDs.enableDesktopNotifications, category: trans.__('Spaces') });
    if (settingRegistry !== null) {
      // The settings are the main plugin's (schema/plugin.json), read here as well.
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const apply = () => {
            notifications.setSettings(readNotifySettings(loaded.composite as Record<string, unknown>));
            app.commands.notifyCommandChanged(CommandIDs.enableDesktopNotifications);
          };
          apply();
          loaded.changed.connect(apply);
        })
        .catch(error => console.error('jupyter-spaces: notification settings could not be loaded', error));
    }
  }
};

export default [plugin, sidebarPlugin, notificationsPlugin, timelinePlugin];
export { ISpaces } from './tokens';
