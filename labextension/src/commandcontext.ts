/**
 * What the command groups share: the context the plugin passes in, and the helpers that find
 * where a command acts (its arguments, or the current space view and its active pane).
 */

import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { InputDialog, showErrorMessage } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import type { IDocumentManager } from '@jupyterlab/docmanager';

import type { INewPane, IPane, ISpace } from './api';
import type { SpacesModel } from './model';
import { isUntrusted } from './snapshotutils';
import type { SnapshotsPanel } from './snapshots';
import type { SpaceView } from './spaceview';
import type { ITerminalSettings } from './tokens';

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
  /** The folder selected in the file browser (else the one it shows), for "Open Space Here". */
  selectedFolder?: () => string | null;
  /** JupyterLab's document manager, for the folder picker (null: no picker, type the path). */
  docManager?: IDocumentManager | null;
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

/** A folder argument: a string, the root ("") included; null when absent. */
const folderArg = (v: unknown): string | null => (typeof v === 'string' ? v.replace(/^\/+|\/+$/g, '') : null);

export { folderArg };

export type ICommandHelpers = ReturnType<typeof commandHelpers>;

export { str };

/** The helpers every command group uses, made once per plugin activation. */
export function commandHelpers(ctx: ICommandContext) {
  const { model, tracker, trans } = ctx;

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

  /**
   * Where a new pane goes, as in tmux and VS Code: it splits the focused pane of the space's
   * view (its `direction` argument, "right"/"row" or "down"/"column"; without one, along the
   * pane's longer side, so panes stay usable), or, with no view or no pane, it is added at the
   * end of the grid by the server.
   */
  const placement = (spaceId: string, args: ReadonlyPartialJSONObject): Pick<INewPane, 'next_to' | 'direction'> => {
    const dir = str(args.direction);
    const direction = dir === 'right' || dir === 'row' ? 'row' : dir === 'down' || dir === 'column' ? 'column' : null;
    const view = viewOf(spaceId);
    const nextTo = str(args.nextTo) ?? view?.activePaneId ?? null;
    if (nextTo === null || model.pane(spaceId, nextTo) === undefined) {
      return direction !== null ? { direction } : {};
    }
    if (direction !== null) {
      return { next_to: nextTo, direction };
    }
    const node = view?.pane(nextTo)?.node;
    const wide = node === undefined || node.offsetWidth >= node.offsetHeight;
    return { next_to: nextTo, direction: wide ? 'row' : 'column' };
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

  /**
   * The space of a folder, created (without the usual first shell) if it has none; null if it
   * could not be made (the user was told why).
   */
  const ensureSpace = async (path: string): Promise<ISpace | null> => {
    const existing = model.spaceForPath(path);
    if (existing !== undefined) {
      return existing;
    }
    try {
      const space = await model.api.createSpace(path);
      model.update(space);
      return space;
    } catch (error) {
      fail(trans.__('The space could not be created'))(error);
      return null;
    }
  };

  /** The space a space-level command acts on: its argument, the current view, or a pick. */
  const spaceFor = async (args: ReadonlyPartialJSONObject, pick = true): Promise<string | null> =>
    target(args).spaceId ?? (pick ? await pickSpace() : null);

  const refreshSnapshots = (spaceId: string): void => {
    void ctx.snapshotsPanel(spaceId)?.model.refresh();
  };


  return { viewOf, placement, ensureSpace, target, hasView, hasPane, locked, canChangePane, fail, pickSpace, showPane, startPane, split, spaceFor, refreshSnapshots };
}
