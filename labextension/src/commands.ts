/**
 * Every user action as a JupyterLab command. The palette, the keyboard shortcuts (defaults in
 * schema/plugin.json), the pane headers and the sidebar all run these, with explicit
 * `spaceId`/`paneId` arguments or, without them, on the current space view and its active pane.
 */

import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { Dialog, InputDialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { CommandLineError, splitCommandLine } from './argv';
import type { AgentName, INewPane, IPane, IResumeOptions, ISession, ISnapshot, RestoreResult, ResumeResult } from './api';
import type { Heading } from './layout';
import { cycle } from './layout';
import type { SpacesModel } from './model';
import { agentLabel, formatTimestamp, sessionFolder } from './sessionutils';
import {
  UNTRUSTED_MESSAGE,
  formatBytes,
  isSnapshotId,
  isUntrusted,
  panesText,
  parseKeep,
  restoreQuestion,
  snapshotLabel,
  snapshotName,
  visibleText
} from './snapshotutils';
import type { SnapshotsPanel } from './snapshots';
import type { SpaceView } from './spaceview';
import type { ITerminalSettings } from './tokens';
import { CommandIDs } from './tokens';
import { confirmTrust } from './trust';

export interface ICommandContext {
  app: JupyterFrontEnd;
  model: SpacesModel;
  tracker: WidgetTracker<MainAreaWidget<SpaceView>>;
  trans: TranslationBundle;
  settings: () => ITerminalSettings;
  /** Open (or reveal) a space's view; resolves to null if the space does not exist. */
  openSpace: (spaceId: string, options?: { paneId?: string; activate?: boolean }) => Promise<MainAreaWidget<SpaceView> | null>;
  /** The folder open in the file browser (relative to the server root), if there is one. */
  currentFolder: () => string | null;
  /** Open (or reveal) the snapshots panel of a space. */
  openSnapshots: (spaceId: string, options?: { activate?: boolean }) => Promise<SnapshotsPanel | null>;
  /** The open snapshots panel of a space, if any. */
  snapshotsPanel: (spaceId: string) => SnapshotsPanel | null;
}

interface ITarget {
  spaceId: string | null;
  paneId: string | null;
  view: SpaceView | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function addCommands(ctx: ICommandContext): void {
  const { app, model, tracker, trans } = ctx;
  const { commands } = app;

  const viewOf = (spaceId: string | null): SpaceView | null =>
    spaceId === null ? null : (tracker.find(w => w.content.spaceId === spaceId)?.content ?? null);

  /** Where a command acts: its arguments, or the current space view and its active pane. */
  const target = (args: ReadonlyPartialJSONObject): ITarget => {
    const spaceId = str(args.spaceId) ?? tracker.currentWidget?.content.spaceId ?? null;
    const view = viewOf(spaceId);
    const paneId = str(args.paneId) ?? view?.activePaneId ?? null;
    return { spaceId, paneId, view };
  };

  const hasView = () => tracker.currentWidget !== null;
  const hasPane = (args: ReadonlyPartialJSONObject) => target(args).paneId !== null;

  /** Whether the space the command would act on is untrusted (nothing in it may change). */
  const locked = (args: ReadonlyPartialJSONObject): boolean => {
    const { spaceId } = target(args);
    return spaceId !== null && isUntrusted(model.space(spaceId));
  };
  /** Pane actions: a pane at hand in a space that may change. */
  const canChangePane = (args: ReadonlyPartialJSONObject) => hasPane(args) && !locked(args);

  const fail = (title: string) => (error: unknown) => {
    void showErrorMessage(title, error as Error);
  };

  /** Ask the user to pick a space (when a command is run with none at hand). */
  const pickSpace = async (): Promise<string | null> => {
    if (!model.loaded) {
      await model.refresh();
    }
    const spaces = model.spaces;
    if (spaces.length === 0) {
      void showErrorMessage(trans.__('No spaces'), trans.__('Create a space for a folder first.'));
      return null;
    }
    const labels = spaces.map(s => `${s.name} — ${s.path || '/'}`);
    const result = await InputDialog.getItem({ title: trans.__('Open Space'), items: labels });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    return spaces[labels.indexOf(result.value)]?.id ?? null;
  };

  /** Open the space of a pane just made, with the pane focused. */
  const showPane = async (pane: IPane, focus = true): Promise<void> => {
    const widget = await ctx.openSpace(pane.space_id, { activate: focus });
    if (focus) {
      widget?.content.activatePane(pane.id);
    }
    await model.refreshSpace(pane.space_id);
  };

  const startPane = async (spaceId: string, body: INewPane, focus = true): Promise<IPane | null> => {
    try {
      const pane = await model.api.createPane(spaceId, body);
      await showPane({ ...pane, space_id: pane.space_id || spaceId }, focus);
      return pane;
    } catch (error) {
      fail(trans.__('The pane could not be started'))(error);
      return null;
    }
  };

  const split = async (args: ReadonlyPartialJSONObject, direction: 'row' | 'column'): Promise<void> => {
    const t = target(args);
    if (t.spaceId === null) {
      return;
    }
    const from = t.paneId !== null ? model.pane(t.spaceId, t.paneId) : undefined;
    await startPane(t.spaceId, {
      kind: 'shell',
      next_to: from?.id,
      direction,
      // A split starts where the pane it splits was started: usually what one wants next.
      cwd: from?.cwd || undefined
    });
  };

  commands.addCommand(CommandIDs.open, {
    label: args => (str(args.spaceId) ? trans.__('Open Space') : trans.__('Open Space…')),
    caption: trans.__('Open a space in the main area'),
    execute: async args => {
      const spaceId = str(args.spaceId) ?? (await pickSpace());
      if (spaceId === null) {
        return null;
      }
      const widget = await ctx.openSpace(spaceId, {
        paneId: str(args.paneId) ?? undefined,
        activate: args.activate !== false
      });
      if (widget === null && args.activate !== false) {
        void showErrorMessage(trans.__('Space not found'), trans.__('The space %1 no longer exists.', spaceId));
      }
      return widget;
    }
  });

  commands.addCommand(CommandIDs.createSpace, {
    label: trans.__('New Space for Current Folder'),
    caption: trans.__('Create a space for the folder open in the file browser'),
    execute: async args => {
      const path = str(args.path) ?? ctx.currentFolder() ?? '';
      const existing = model.spaceForPath(path);
      if (existing !== undefined) {
        // One space per folder: open the one it has.
        return ctx.openSpace(existing.id);
      }
      try {
        const space = await model.api.createSpace(path, str(args.name) ?? undefined);
        model.update(space);
        const widget = await ctx.openSpace(space.id);
        // A new space is opened to work in it: start with a shell, unless panes cannot start
        // (then the view's empty state and the sidebar's banner say why).
        if (space.panes.length === 0 && model.host?.durable !== false && !space.read_only) {
          await startPane(space.id, { kind: 'shell' });
        }
        return widget;
      } catch (error) {
        fail(trans.__('The space could not be created'))(error);
        return null;
      }
    }
  });

  commands.addCommand(CommandIDs.renameSpace, {
    label: trans.__('Rename Space…'),
    isEnabled: args => target(args).spaceId !== null && !locked(args),
    execute: async args => {
      const { spaceId } = target(args);
      const space = spaceId !== null ? model.space(spaceId) : undefined;
      if (space === undefined) {
        return;
      }
      const result = await InputDialog.getText({ title: trans.__('Rename Space'), text: space.name });
      const name = result.value?.trim();
      if (!result.button.accept || !name || name === space.name) {
        return;
      }
      await model.api.patchSpace(space.id, { name }).then(s => model.update(s), fail(trans.__('The space was not renamed')));
    }
  });

  commands.addCommand(CommandIDs.deleteSpace, {
    label: trans.__('Delete Space…'),
    isEnabled: args => target(args).spaceId !== null,
    execute: async args => {
      const { spaceId } = target(args);
      const space = spaceId !== null ? model.space(spaceId) : undefined;
      if (space === undefined) {
        return;
      }
      const running = space.panes.filter(p => p.state === 'running').length;
      const result = await showDialog({
        title: trans.__('Delete space %1?', space.name),
        body:
          (running > 0
            ? trans._n(
                'Its %1 running pane is stopped.',
                'Its %1 running panes are stopped.',
                running
              ) + ' '
            : '') + trans.__('The folder itself is not touched.'),
        checkbox: {
          label: trans.__('Also delete its workspace file (%1/.jupyter-spaces/)', space.path || '.'),
          checked: false
        },
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Delete') })]
      });
      if (!result.button.accept) {
        return;
      }
      try {
        await model.api.deleteSpace(space.id, result.isChecked === true);
        model.forget(space.id);
      } catch (error) {
        fail(trans.__('The space was not deleted'))(error);
      }
    }
  });

  commands.addCommand(CommandIDs.refresh, {
    label: trans.__('Refresh Spaces'),
    execute: () => model.refresh()
  });

  commands.addCommand(CommandIDs.newShell, {
    label: trans.__('New Shell Pane'),
    caption: trans.__('Start a shell in a new pane of the space'),
    isEnabled: args => !locked(args),
    execute: async args => {
      const spaceId = target(args).spaceId ?? (await pickSpace());
      if (spaceId !== null) {
        await startPane(spaceId, { kind: 'shell', cwd: str(args.cwd) ?? undefined });
      }
    }
  });

  commands.addCommand(CommandIDs.newCommand, {
    label: trans.__('New Command Pane…'),
    caption: trans.__('Run a long-running command (a dev server, a watcher) in a new pane'),
    isEnabled: args => !locked(args),
    execute: async args => {
      const spaceId = target(args).spaceId ?? (await pickSpace());
      if (spaceId === null) {
        return;
      }
      let argv: string[] | null = Array.isArray(args.argv) ? (args.argv as string[]) : null;
      if (argv === null) {
        const result = await InputDialog.getText({
          title: trans.__('New Command Pane'),
          label: trans.__('Command (run as is, without a shell; quote words as in sh):'),
          placeholder: 'python -m http.server 8000'
        });
        if (!result.button.accept || !result.value?.trim()) {
          return;
        }
        try {
          argv = splitCommandLine(result.value);
        } catch (error) {
          if (error instanceof CommandLineError) {
            void showErrorMessage(trans.__('Not a command line'), error.message);
            return;
          }
          throw error;
        }
      }
      if (argv.length === 0) {
        return;
      }
      await startPane(spaceId, {
        kind: 'command',
        argv,
        title: str(args.title) ?? argv[0].split('/').pop(),
        cwd: str(args.cwd) ?? undefined
      });
    }
  });

  const agents: Array<[string, AgentName]> = [
    [CommandIDs.newClaude, 'claude'],
    [CommandIDs.newCodex, 'codex'],
    [CommandIDs.newGemini, 'gemini']
  ];
  for (const [id, agent] of agents) {
    commands.addCommand(id, {
      label: trans.__('New %1 Pane', agentLabel(agent)),
      caption: trans.__('Start %1 in a new pane of the space (it resumes by itself after a restart)', agentLabel(agent)),
      isEnabled: args => !locked(args),
      execute: async args => {
        const spaceId = target(args).spaceId ?? (await pickSpace());
        if (spaceId === null) {
          return null;
        }
        const body: INewPane = { kind: 'agent', agent };
        if (Array.isArray(args.args)) {
          body.args = (args.args as unknown[]).filter((a): a is string => typeof a === 'string');
        }
        body.model = str(args.model) ?? undefined;
        body.cwd = str(args.cwd) ?? undefined;
        body.title = str(args.title) ?? undefined;
        return startPane(spaceId, body);
      }
    });
  }

  /** A running pane that already holds this conversation. */
  const paneWithSession = (agent: string, id: string): IPane | undefined => {
    for (const space of model.spaces) {
      const pane = space.panes.find(p => p.agent === agent && p.session_id === id && p.state === 'running');
      if (pane !== undefined) {
        return pane;
      }
    }
    return undefined;
  };

  /**
   * Resume a session in a pane of its space. The server refuses what the user can fix with a
   * yes: no space holds the folder (create one, then try again), the transcript was deleted
   * (start a fresh conversation there). Anything else is shown as the server says it.
   */
  const resume = async (agent: string, id: string, options: IResumeOptions): Promise<IPane | null> => {
    const title = trans.__('The session could not be resumed');
    let session: ISession | null | undefined;
    const about = async (): Promise<ISession | null> => {
      if (session === undefined) {
        session = await model.api.getSession(agent, id).catch(() => null);
      }
      return session;
    };
    let createdFor: string | null = null;
    let last: ResumeResult | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        last = await model.api.resumeSession(agent, id, options);
      } catch (error) {
        fail(title)(error);
        return null;
      }
      if (last.ok) {
        await showPane(last.pane);
        return last.pane;
      }
      if (last.reason === 'no_space' && createdFor === null) {
        const path = last.path ?? (await about())?.path ?? null;
        if (path === null) {
          break;
        }
        const shown = path || '/';
        const answer = await showDialog({
          title: trans.__('Create a space for %1?', shown),
          body: trans.__(
            'The session ran in %1, which has no space yet. A space is created for that folder and the session resumes in a pane of it.',
            shown
          ),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Create Space') })]
        });
        if (!answer.button.accept) {
          return null;
        }
        if (model.spaceForPath(path) === undefined) {
          try {
            model.update(await model.api.createSpace(path));
          } catch (error) {
            // Another window may have made it meanwhile: the next try tells.
            if ((error as { response?: Response }).response?.status !== 409) {
              fail(trans.__('The space could not be created'))(error);
              return null;
            }
          }
        }
        createdFor = path;
        continue;
      }
      if (last.reason === 'already_open' && last.space_id !== null) {
        // Another window resumed it a moment ago: show that pane rather than a second copy.
        await ctx.openSpace(last.space_id, { paneId: last.pane_id ?? undefined });
        return last.pane_id !== null ? (model.pane(last.space_id, last.pane_id) ?? null) : null;
      }
      if (last.reason === 'gone' && options.fresh !== true) {
        const s = await about();
        const folder = (s !== null ? sessionFolder(s) : '') || last.path || trans.__('its folder');
        const answer = await showDialog({
          title: trans.__('Start a fresh session?'),
          body: trans.__('The transcript was deleted. Start a fresh session in %1?', folder),
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Start Fresh') })]
        });
        if (!answer.button.accept) {
          return null;
        }
        options = { ...options, fresh: true };
        continue;
      }
      break;
    }
    if (last !== null && !last.ok) {
      void showErrorMessage(title, last.message);
    }
    return null;
  };

  commands.addCommand(CommandIDs.resumeSession, {
    label: trans.__('Resume Agent Session'),
    caption: trans.__('Resume an agent session in a new pane of its space'),
    isEnabled: args => str(args.agent) !== null && str(args.id) !== null,
    execute: async args => {
      const agent = str(args.agent);
      const id = str(args.id);
      if (agent === null || id === null) {
        return null;
      }
      const fresh = args.fresh === true;
      // Two programs writing one conversation would garble it: show the pane that has it.
      const open = fresh ? undefined : paneWithSession(agent, id);
      if (open !== undefined) {
        await ctx.openSpace(open.space_id, { paneId: open.id });
        return open;
      }
      const options: IResumeOptions = fresh ? { fresh } : {};
      const spaceId = str(args.spaceId);
      if (spaceId !== null) {
        options.space_id = spaceId;
      }
      return resume(agent, id, options);
    }
  });

  commands.addCommand(CommandIDs.splitRight, {
    label: trans.__('Split Pane Right'),
    caption: trans.__('Start a shell in a new pane right of this one'),
    isEnabled: args => target(args).spaceId !== null && !locked(args),
    execute: args => split(args, 'row')
  });

  commands.addCommand(CommandIDs.splitDown, {
    label: trans.__('Split Pane Down'),
    caption: trans.__('Start a shell in a new pane below this one'),
    isEnabled: args => target(args).spaceId !== null && !locked(args),
    execute: args => split(args, 'column')
  });

  commands.addCommand(CommandIDs.closePane, {
    label: trans.__('Close Pane'),
    caption: trans.__('Stop the pane\'s program and remove the pane'),
    isEnabled: canChangePane,
    execute: async args => {
      const { spaceId, paneId, view } = target(args);
      const pane = spaceId !== null && paneId !== null ? model.pane(spaceId, paneId) : undefined;
      if (pane === undefined || spaceId === null) {
        return;
      }
      if (pane.state === 'running' && ctx.settings().confirmClose) {
        const result = await showDialog({
          title: trans.__('Close pane %1?', pane.title || pane.kind),
          body: trans.__('Its program is still running; closing the pane stops it.'),
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Close') })]
        });
        if (!result.button.accept) {
          return;
        }
      }
      // Focus goes where reading order continues, as when closing a tab.
      const next = view !== null ? cycle(view.space?.layout ?? null, pane.id, 1) : null;
      try {
        await model.api.deletePane(spaceId, pane.id);
        await model.refreshSpace(spaceId);
        if (view !== null && next !== null && next !== pane.id) {
          view.activatePane(next);
        }
      } catch (error) {
        fail(trans.__('The pane was not closed'))(error);
      }
    }
  });

  commands.addCommand(CommandIDs.restartPane, {
    label: trans.__('Restart Pane'),
    caption: trans.__('Run the pane\'s command again (what runs now is stopped)'),
    isEnabled: canChangePane,
    execute: async args => {
      const { spaceId, paneId } = target(args);
      const pane = spaceId !== null && paneId !== null ? model.pane(spaceId, paneId) : undefined;
      if (pane === undefined || spaceId === null) {
        return;
      }
      if (pane.state === 'running') {
        const result = await showDialog({
          title: trans.__('Restart pane %1?', pane.title || pane.kind),
          body: trans.__('Its program is still running; restarting stops it and starts it again.'),
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Restart') })]
        });
        if (!result.button.accept) {
          return;
        }
      }
      try {
        await model.api.restartPane(spaceId, pane.id);
        // tmux clears the pane's screen on a restart without telling its watchers: attach
        // again for a redraw of what the screen really holds now.
        viewOf(spaceId)?.pane(pane.id)?.reconnect(true);
        await model.refreshSpace(spaceId);
      } catch (error) {
        fail(trans.__('The pane was not restarted'))(error);
      }
    }
  });

  commands.addCommand(CommandIDs.renamePane, {
    label: trans.__('Rename Pane…'),
    isEnabled: canChangePane,
    execute: async args => {
      const { spaceId, paneId } = target(args);
      const pane = spaceId !== null && paneId !== null ? model.pane(spaceId, paneId) : undefined;
      if (pane === undefined || spaceId === null) {
        return;
      }
      const result = await InputDialog.getText({ title: trans.__('Rename Pane'), text: pane.title });
      if (!result.button.accept || result.value === null || result.value === pane.title) {
        return;
      }
      try {
        await model.api.patchPane(spaceId, pane.id, { title: result.value.trim() });
        await model.refreshSpace(spaceId);
      } catch (error) {
        fail(trans.__('The pane was not renamed'))(error);
      }
    }
  });

  commands.addCommand(CommandIDs.reconnectPane, {
    label: trans.__('Reconnect Pane'),
    isEnabled: hasPane,
    execute: args => {
      const { view, paneId } = target(args);
      if (view !== null && paneId !== null) {
        view.pane(paneId)?.reconnect();
      }
    }
  });

  commands.addCommand(CommandIDs.toggleMaximize, {
    label: args => {
      const { view, paneId } = target(args);
      return view !== null && view.maximizedPaneId !== null && view.maximizedPaneId === paneId
        ? trans.__('Restore Pane Grid')
        : trans.__('Maximize Pane');
    },
    isEnabled: hasPane,
    execute: args => {
      const { view, paneId } = target(args);
      view?.toggleMaximize(paneId);
    }
  });

  // ---- trust, snapshots, autorestart ------------------------------------------------------

  /** The space a space-level command acts on: its argument, the current view, or a pick. */
  const spaceFor = async (args: ReadonlyPartialJSONObject, pick = true): Promise<string | null> =>
    target(args).spaceId ?? (pick ? await pickSpace() : null);

  const refreshSnapshots = (spaceId: string): void => {
    void ctx.snapshotsPanel(spaceId)?.model.refresh();
  };

  commands.addCommand(CommandIDs.trustSpace, {
    label: trans.__('Trust Space'),
    caption: trans.__(
      "Trust the space's workspace file (it came with the folder or was edited) and start its panes"
    ),
    isEnabled: args => {
      const { spaceId } = target(args);
      return spaceId === null || isUntrusted(model.space(spaceId));
    },
    execute: async args => {
      const spaceId = await spaceFor(args);
      if (spaceId === null) {
        return null;
      }
      // Ask about the file as it is now, not as it was when the sidebar last drew it.
      let space = await model.refreshSpace(spaceId).catch(() => model.space(spaceId) ?? null);
      if (space === null || space === undefined) {
        return null;
      }
      if (!isUntrusted(space)) {
        Notification.info(trans.__('The space %1 is trusted already.', visibleText(space.name)), { autoClose: 4000 });
        return space;
      }
      let plan;
      try {
        plan = await model.api.getPlan(spaceId);
      } catch (error) {
        fail(trans.__('What the space would run cannot be shown'))(error);
        return null;
      }
      if (!(await confirmTrust(space, plan, trans))) {
        return null;
      }
      try {
        // The server refuses if what it would run is no longer what was shown.
        space = await model.api.trustSpace(spaceId, plan.plan_sha256);
        model.update(space);
        return space;
      } catch (error) {
        fail(trans.__('The space was not trusted'))(error);
        return null;
      }
    }
  });

  commands.addCommand(CommandIDs.openSnapshots, {
    label: trans.__('Snapshots…'),
    caption: trans.__("List the space's snapshots: take, restore, delete and prune them"),
    execute: async args => {
      const spaceId = await spaceFor(args);
      if (spaceId === null) {
        return null;
      }
      return ctx.openSnapshots(spaceId, { activate: args.activate !== false });
    }
  });

  commands.addCommand(CommandIDs.takeSnapshot, {
    label: trans.__('Take Snapshot'),
    caption: trans.__("Save the space's layout, screens and agent conversations, to come back to later"),
    execute: async args => {
      const spaceId = await spaceFor(args);
      const space = spaceId !== null ? model.space(spaceId) : undefined;
      if (spaceId === null || space === undefined) {
        return null;
      }
      let name = typeof args.name === 'string' ? args.name : null;
      if (name === null) {
        const result = await InputDialog.getText({
          title: trans.__('Take a Snapshot of %1', visibleText(space.name)),
          label: trans.__('Name (optional):'),
          placeholder: trans.__('before the refactor'),
          okLabel: trans.__('Take Snapshot')
        });
        if (!result.button.accept) {
          return null;
        }
        name = result.value ?? '';
      }
      try {
        name = snapshotName(name, trans);
      } catch (error) {
        void showErrorMessage(trans.__('Not a snapshot name'), (error as Error).message);
        return null;
      }
      let snapshot: ISnapshot;
      try {
        snapshot = await model.api.createSnapshot(spaceId, name || undefined);
      } catch (error) {
        fail(trans.__('The snapshot was not taken'))(error);
        return null;
      }
      refreshSnapshots(spaceId);
      const panel = ctx.snapshotsPanel(spaceId);
      Notification.success(
        trans.__(
          'Snapshot of %1 taken: %2, %3.',
          visibleText(space.name),
          panesText(snapshot, trans),
          formatBytes(snapshot.bytes)
        ),
        {
          autoClose: 5000,
          actions:
            panel !== null && panel.isVisible
              ? []
              : [
                  {
                    label: trans.__('Show Snapshots'),
                    callback: () => void ctx.openSnapshots(spaceId)
                  }
                ]
        }
      );
      return snapshot;
    }
  });

  /** The snapshot a command names, from the open list if it is there (for its label). */
  const snapshotOf = (spaceId: string, snapshotId: string): ISnapshot | undefined =>
    ctx.snapshotsPanel(spaceId)?.model.snapshots.find(s => s.id === snapshotId);

  const labelOf = (spaceId: string, snapshotId: string): string => {
    const snapshot = snapshotOf(spaceId, snapshotId);
    return snapshot !== undefined ? snapshotLabel(snapshot, formatTimestamp, trans) : snapshotId;
  };

  const snapshotArgs = (args: ReadonlyPartialJSONObject): { spaceId: string; snapshotId: string } | null => {
    const spaceId = target(args).spaceId;
    const snapshotId = str(args.snapshotId);
    return spaceId !== null && isSnapshotId(snapshotId) ? { spaceId, snapshotId } : null;
  };

  commands.addCommand(CommandIDs.restoreSnapshot, {
    label: trans.__('Restore Snapshot'),
    caption: trans.__('Put the space back as the snapshot has it and start its panes again'),
    isEnabled: args => snapshotArgs(args) !== null,
    execute: async args => {
      const which = snapshotArgs(args);
      if (which === null) {
        return null;
      }
      const { spaceId, snapshotId } = which;
      const title = trans.__('The snapshot was not restored');
      const spaceName = visibleText(model.space(spaceId)?.name ?? spaceId);
      let result: RestoreResult;
      try {
        result = await model.api.restoreSnapshot(spaceId, snapshotId);
        if (!result.ok && result.reason === 'running') {
          const running =
            result.panes.length || (model.space(spaceId)?.panes.filter(p => p.state === 'running').length ?? 1);
          const answer = await showDialog({
            title: trans.__('Restore %1?', labelOf(spaceId, snapshotId)),
            body: restoreQuestion(running, spaceName, trans),
            buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Stop Panes and Restore') })]
          });
          if (!answer.button.accept) {
            return null;
          }
          result = await model.api.restoreSnapshot(spaceId, snapshotId, true);
        }
      } catch (error) {
        fail(title)(error);
        return null;
      }
      if (!result.ok) {
        void showErrorMessage(title, result.message);
        return null;
      }
      model.update(result.space);
      // The panes were stopped and started again: attach afresh for a redraw of their screens.
      const view = viewOf(spaceId);
      view?.paneIds.forEach(id => view.pane(id)?.reconnect(true));
      refreshSnapshots(spaceId);
      Notification.success(trans.__('%1 was restored from %2.', spaceName, labelOf(spaceId, snapshotId)), {
        autoClose: 5000,
        actions:
          view !== null
            ? []
            : [{ label: trans.__('Open Space'), callback: () => void ctx.openSpace(spaceId) }]
      });
      return result.space;
    }
  });

  commands.addCommand(CommandIDs.deleteSnapshot, {
    label: trans.__('Delete Snapshot…'),
    isEnabled: args => snapshotArgs(args) !== null,
    execute: async args => {
      const which = snapshotArgs(args);
      if (which === null) {
        return;
      }
      const { spaceId, snapshotId } = which;
      const answer = await showDialog({
        title: trans.__('Delete %1?', labelOf(spaceId, snapshotId)),
        body: trans.__(
          "Its copies of the workspace file, the screens and the agents' conversations are deleted. The space itself is not touched."
        ),
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Delete') })]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        await model.api.deleteSnapshot(spaceId, snapshotId);
        ctx.snapshotsPanel(spaceId)?.model.forget(snapshotId);
        refreshSnapshots(spaceId);
      } catch (error) {
        fail(trans.__('The snapshot was not deleted'))(error);
      }
    }
  });

  commands.addCommand(CommandIDs.pruneSnapshots, {
    label: trans.__('Prune Snapshots…'),
    caption: trans.__('Delete all but the newest snapshots of the space'),
    execute: async args => {
      const spaceId = await spaceFor(args);
      const space = spaceId !== null ? model.space(spaceId) : undefined;
      if (spaceId === null || space === undefined) {
        return null;
      }
      let keep = parseKeep(typeof args.keep === 'number' || typeof args.keep === 'string' ? args.keep : null);
      let snapshots = ctx.snapshotsPanel(spaceId)?.model.snapshots ?? null;
      if (snapshots === null) {
        try {
          snapshots = await model.api.listSnapshots(spaceId);
        } catch (error) {
          fail(trans.__('Could not list the snapshots'))(error);
          return null;
        }
      }
      if (keep === null) {
        const result = await InputDialog.getText({
          title: trans.__('Prune Snapshots of %1', visibleText(space.name)),
          label: trans._n(
            'Keep the newest … snapshots and delete the rest (there is %1):',
            'Keep the newest … snapshots and delete the rest (there are %1):',
            snapshots.length
          ),
          text: String(Math.min(5, snapshots.length)),
          okLabel: trans.__('Prune')
        });
        if (!result.button.accept) {
          return null;
        }
        keep = parseKeep(result.value);
        if (keep === null) {
          void showErrorMessage(trans.__('Not a number'), trans.__('Type how many snapshots to keep: 0 or more.'));
          return null;
        }
        const doomed = Math.max(0, snapshots.length - keep);
        if (doomed === 0) {
          Notification.info(trans.__('Nothing to prune: %1 has %2 snapshots.', visibleText(space.name), snapshots.length), {
            autoClose: 4000
          });
          return null;
        }
        const answer = await showDialog({
          title: trans._n('Delete %1 snapshot?', 'Delete %1 snapshots?', doomed),
          body: trans._n(
            'The oldest snapshot of %2 is deleted; the newest %3 are kept.',
            'The %1 oldest snapshots of %2 are deleted; the newest %3 are kept.',
            doomed,
            visibleText(space.name),
            keep
          ),
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Delete') })]
        });
        if (!answer.button.accept) {
          return null;
        }
      }
      try {
        const pruned = await model.api.pruneSnapshots(spaceId, { keep });
        refreshSnapshots(spaceId);
        Notification.success(
          trans._n('%1 snapshot deleted, %2 kept.', '%1 snapshots deleted, %2 kept.', pruned.deleted.length, pruned.kept.length),
          { autoClose: 4000 }
        );
        return pruned;
      } catch (error) {
        fail(trans.__('The snapshots were not pruned'))(error);
        return null;
      }
    }
  });

  /** The command pane a toggle acts on, if the target is one. */
  const commandPane = (args: ReadonlyPartialJSONObject): IPane | undefined => {
    const { spaceId, paneId } = target(args);
    const pane = spaceId !== null && paneId !== null ? model.pane(spaceId, paneId) : undefined;
    return pane?.kind === 'command' ? pane : undefined;
  };

  commands.addCommand(CommandIDs.toggleAutorestart, {
    label: trans.__('Restart Automatically After a Machine Restart'),
    caption: trans.__(
      'Run this command again by itself when the server starts after a machine restart, instead of waiting for Enter'
    ),
    isToggleable: true,
    isToggled: args => commandPane(args)?.autorestart === true,
    isEnabled: args => {
      const pane = commandPane(args);
      const space = pane !== undefined ? model.space(pane.space_id || target(args).spaceId || '') : undefined;
      return pane !== undefined && !locked(args) && space?.read_only !== true;
    },
    execute: async args => {
      const pane = commandPane(args);
      const { spaceId } = target(args);
      if (pane === undefined || spaceId === null) {
        return;
      }
      if (locked(args)) {
        void showErrorMessage(trans.__('The space is not trusted'), trans.__(UNTRUSTED_MESSAGE));
        return;
      }
      const on = typeof args.autorestart === 'boolean' ? args.autorestart : pane.autorestart !== true;
      try {
        await model.api.patchPane(spaceId, pane.id, { autorestart: on });
        await model.refreshSpace(spaceId);
      } catch (error) {
        fail(trans.__('The pane was not changed'))(error);
      }
    }
  });

  const focusCommands: Array<[string, string, (view: SpaceView) => void]> = [
    [CommandIDs.focusNext, trans.__('Focus Next Pane'), v => v.focusCycle(1)],
    [CommandIDs.focusPrevious, trans.__('Focus Previous Pane'), v => v.focusCycle(-1)],
    ...(
      [
        ['left', CommandIDs.focusLeft, trans.__('Focus Pane Left')],
        ['right', CommandIDs.focusRight, trans.__('Focus Pane Right')],
        ['up', CommandIDs.focusUp, trans.__('Focus Pane Above')],
        ['down', CommandIDs.focusDown, trans.__('Focus Pane Below')]
      ] as Array<[Heading, string, string]>
    ).map(([heading, id, label]): [string, string, (view: SpaceView) => void] => [
      id,
      label,
      v => v.focusNeighbour(heading)
    ])
  ];
  for (const [id, label, move] of focusCommands) {
    commands.addCommand(id, {
      label,
      isEnabled: hasView,
      execute: () => {
        const view = tracker.currentWidget?.content;
        if (view !== undefined) {
          move(view);
        }
      }
    });
  }
}

/** Commands shown in the palette, in this order. */
export const PALETTE_COMMANDS = [
  CommandIDs.open,
  CommandIDs.createSpace,
  CommandIDs.newShell,
  CommandIDs.newCommand,
  CommandIDs.newClaude,
  CommandIDs.newCodex,
  CommandIDs.newGemini,
  CommandIDs.splitRight,
  CommandIDs.splitDown,
  CommandIDs.closePane,
  CommandIDs.restartPane,
  CommandIDs.renamePane,
  CommandIDs.reconnectPane,
  CommandIDs.toggleMaximize,
  CommandIDs.focusNext,
  CommandIDs.focusPrevious,
  CommandIDs.focusLeft,
  CommandIDs.focusRight,
  CommandIDs.focusUp,
  CommandIDs.focusDown,
  CommandIDs.toggleAutorestart,
  CommandIDs.renameSpace,
  CommandIDs.deleteSpace,
  CommandIDs.trustSpace,
  CommandIDs.takeSnapshot,
  CommandIDs.openSnapshots,
  CommandIDs.pruneSnapshots,
  CommandIDs.refresh
];
