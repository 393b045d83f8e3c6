/**
 * Every user action as a JupyterLab command. The palette, the keyboard shortcuts (defaults in
 * schema/plugin.json), the pane headers and the sidebar all run these, with explicit
 * `spaceId`/`paneId` arguments or, without them, on the current space view and its active pane.
 *
 * One module per command group; `addCommands` registers them all, in the order they always were.
 */

import { CommandIDs } from './tokens';
import type { ICommandContext } from './commandcontext';
import { commandHelpers } from './commandcontext';
import { addNewPaneCommands } from './newpanecommands';
import { addFocusCommands, addPaneCommands } from './panecommands';
import { addSnapshotCommands } from './snapshotcommands';
import { addSpaceCommands, addTrustCommands } from './spacecommands';

export type { ICommandContext } from './commandcontext';

export function addCommands(ctx: ICommandContext): void {
  const h = commandHelpers(ctx);
  addSpaceCommands(ctx, h);
  addNewPaneCommands(ctx, h);
  addPaneCommands(ctx, h);
  addTrustCommands(ctx, h);
  addSnapshotCommands(ctx, h);
  addFocusCommands(ctx, h);
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
