/**
 * Commands on a pane and the space view: split, close, restart, rename, reconnect, maximize,
 * restart automatically, move the focus.
 */

import { Dialog, InputDialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { IPane } from './api';
import type { Heading } from './layout';
import { cycle } from './layout';
import { isShellProgram } from './paneident';
import { UNTRUSTED_MESSAGE } from './snapshotutils';
import type { SpaceView } from './spaceview';
import { CommandIDs } from './tokens';
import type { ICommandContext, ICommandHelpers } from './commandcontext';

export function addPaneCommands(ctx: ICommandContext, h: ICommandHelpers): void {
  const { model, trans } = ctx;
  const { commands } = ctx.app;
  const { viewOf, target, hasPane, locked, canChangePane, fail, split } = h;

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
      if (spaceId === null || paneId === null) {
        return;
      }
      // What runs in it now, not when the view last read it: that decides whether to ask.
      await model.refreshSpace(spaceId).catch(() => undefined);
      const pane = model.pane(spaceId, paneId);
      if (pane === undefined) {
        return;
      }
      // Ask only when it matters (as VS Code does for terminals with a child process): a shell
      // at its prompt closes at once; a program in its foreground, a command or an agent asks.
      const idleShell = pane.kind === 'shell' && isShellProgram(pane.foreground) && pane.foreground != null;
      if (pane.state === 'running' && ctx.settings().confirmClose && !idleShell) {
        const result = await showDialog({
          title: trans.__('Close pane %1?', pane.title || pane.kind),
          body:
            pane.kind === 'shell' && pane.foreground
              ? trans.__('%1 is running in it; closing the pane stops it.', pane.foreground)
              : trans.__('Its program is still running; closing the pane stops it.'),
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
}

export function addFocusCommands(ctx: ICommandContext, h: ICommandHelpers): void {
  const { model, tracker, trans } = ctx;
  const { commands } = ctx.app;
  const { target, hasView, locked, fail } = h;

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
