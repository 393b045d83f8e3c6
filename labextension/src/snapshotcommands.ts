/**
 * Snapshot commands: open the panel, take, restore, delete, prune.
 */

import { Dialog, InputDialog, Notification, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { ISnapshot, RestoreResult } from './api';
import { formatTimestamp } from './sessionutils';
import { formatBytes, isSnapshotId, panesText, parseKeep, restoreQuestion, snapshotLabel, snapshotName, visibleText } from './snapshotutils';
import { CommandIDs } from './tokens';
import type { ICommandContext, ICommandHelpers } from './commandcontext';
import { str } from './commandcontext';

export function addSnapshotCommands(ctx: ICommandContext, h: ICommandHelpers): void {
  const { model, trans } = ctx;
  const { commands } = ctx.app;
  const { viewOf, target, fail, spaceFor, refreshSnapshots } = h;

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
}
