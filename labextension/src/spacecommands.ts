/**
 * Space commands: open, create, rename, delete, refresh, trust.
 */

import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Dialog, InputDialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';

import { isUntrusted, visibleText } from './snapshotutils';
import { CommandIDs } from './tokens';
import { confirmTrust } from './trust';
import type { ICommandContext, ICommandHelpers } from './commandcontext';
import { folderArg, str } from './commandcontext';
import { spacesIcon } from './icons';
import { askNewSpace } from './newspace';

export function addSpaceCommands(ctx: ICommandContext, h: ICommandHelpers): void {
  const { model, trans } = ctx;
  const { commands } = ctx.app;
  const { target, locked, fail, pickSpace, startPane } = h;

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
    label: args =>
      args.isLauncher
        ? trans.__('New Space Here')
        : args.isMenu
          ? trans.__('Space…')
          : folderArg(args.path) !== null
            ? trans.__('New Space')
            : trans.__('New Space…'),
    caption: args =>
      args.isLauncher
        ? trans.__('A space for this folder: durable terminals, commands and agents (opens the one it has)')
        : trans.__('Create a space for a folder: durable terminals, commands and agents'),
    icon: args => (args.isLauncher || args.isMenu ? spacesIcon : undefined),
    execute: async args => {
      const widget = await createSpace(args);
      // Not to the launcher: it would put the (already placed) view where the launcher was.
      return args.isLauncher ? undefined : widget;
    }
  });

  const createSpace = async (args: ReadonlyPartialJSONObject) => {
    {
      // The launcher names its folder as `cwd`; others pass `path`; without either, ask.
      let path = folderArg(args.path) ?? folderArg(args.cwd);
      let name = str(args.name);
      if (path === null) {
        const answer = await askNewSpace({
          folder: ctx.currentFolder() ?? '',
          trans,
          model,
          manager: ctx.docManager ?? null
        });
        if (answer === null) {
          return null;
        }
        path = answer.path;
        name = answer.name || null;
      }
      const existing = model.spaceForPath(path);
      if (existing !== undefined) {
        // One space per folder: open the one it has.
        return ctx.openSpace(existing.id);
      }
      try {
        const space = await model.api.createSpace(path, name ?? undefined);
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
  };

  commands.addCommand(CommandIDs.openSpaceHere, {
    label: trans.__('Open Space Here'),
    caption: trans.__("Open this folder's space (a new one if it has none)"),
    icon: spacesIcon,
    isVisible: () => (ctx.selectedFolder?.() ?? ctx.currentFolder()) !== null,
    execute: args => {
      const path = folderArg(args.path) ?? ctx.selectedFolder?.() ?? ctx.currentFolder();
      return path === null ? null : commands.execute(CommandIDs.createSpace, { path });
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
}

export function addTrustCommands(ctx: ICommandContext, h: ICommandHelpers): void {
  const { model, trans } = ctx;
  const { commands } = ctx.app;
  const { target, fail, spaceFor } = h;

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
}
