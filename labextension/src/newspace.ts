/**
 * The "New Space" dialog: which folder (the file browser's by default, typed or picked with
 * JupyterLab's own folder picker) and the space's name (the folder's name by default).
 *
 * The + of the Spaces panel, the palette's *New Space…* and File › New › Space ask here; the
 * launcher tile and the file browser's *Open Space Here* already name the folder and do not.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import { FileDialog } from '@jupyterlab/filebrowser';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type { SpacesModel } from './model';
import { normalizeFolder } from './paneident';

export interface INewSpaceAnswer {
  /** Relative to the server's root ("" for the root). */
  path: string;
  /** Empty: the server names it after the folder. */
  name: string;
}

class NewSpaceBody extends Widget {
  constructor(
    folder: string,
    private _trans: TranslationBundle,
    private _model: SpacesModel,
    manager: IDocumentManager | null
  ) {
    super();
    this.addClass('jp-Spaces-newSpace');
    const trans = _trans;
    const folderLabel = document.createElement('label');
    folderLabel.textContent = trans.__('Folder (relative to the server root)');
    const row = document.createElement('div');
    row.className = 'jp-Spaces-newSpaceRow';
    const input = (this._folder = document.createElement('input'));
    input.className = 'jp-mod-styled jp-Spaces-newSpaceFolder';
    input.name = 'folder';
    input.value = folder;
    input.placeholder = trans.__('(the server root)');
    input.spellcheck = false;
    row.appendChild(input);
    if (manager !== null) {
      const browse = document.createElement('button');
      browse.type = 'button';
      browse.className = 'jp-mod-styled jp-Spaces-newSpaceBrowse';
      browse.dataset.action = 'browse-folder';
      browse.textContent = trans.__('Browse…');
      browse.addEventListener('click', async () => {
        const result = await FileDialog.getExistingDirectory({
          manager,
          title: trans.__('Folder for the space'),
          defaultPath: normalizeFolder(input.value) ?? ''
        });
        const picked = result.button.accept ? result.value?.[0] : undefined;
        if (picked !== undefined) {
          input.value = picked.path;
          this._update();
        }
        input.focus();
      });
      row.appendChild(browse);
    }
    const nameLabel = document.createElement('label');
    nameLabel.textContent = trans.__('Name');
    const name = (this._name = document.createElement('input'));
    name.className = 'jp-mod-styled jp-Spaces-newSpaceName';
    name.name = 'name';
    name.spellcheck = false;
    this._note = document.createElement('p');
    this._note.className = 'jp-Spaces-newSpaceNote';
    input.addEventListener('input', () => this._update());
    this.node.append(folderLabel, row, nameLabel, name, this._note);
    this._update();
  }

  getValue(): INewSpaceAnswer {
    return { path: normalizeFolder(this._folder.value) ?? this._folder.value, name: this._name.value.trim() };
  }

  protected onAfterAttach(): void {
    this._folder.focus();
    this._folder.select();
  }

  private _update(): void {
    const path = normalizeFolder(this._folder.value);
    const trans = this._trans;
    const base = path ? path.split('/').pop()! : trans.__('the root folder');
    this._name.placeholder = path === null ? '' : base;
    const existing = path === null ? undefined : this._model.spaceForPath(path);
    this._note.dataset.kind = path === null ? 'error' : 'info';
    this._note.textContent =
      path === null
        ? trans.__('The folder must be inside the server root.')
        : existing !== undefined
          ? trans.__('This folder has a space already (%1): it opens.', existing.name)
          : trans.__('The space starts with a shell in this folder.');
  }

  private _folder: HTMLInputElement;
  private _name: HTMLInputElement;
  private _note: HTMLParagraphElement;
}

/** Ask for the folder and the name of a new space; null if the user cancelled. */
export async function askNewSpace(options: {
  folder: string;
  trans: TranslationBundle;
  model: SpacesModel;
  manager: IDocumentManager | null;
}): Promise<INewSpaceAnswer | null> {
  const { trans } = options;
  const body = new NewSpaceBody(options.folder, trans, options.model, options.manager);
  const result = await showDialog({
    title: trans.__('New Space'),
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: trans.__('Create') })],
    focusNodeSelector: 'input.jp-Spaces-newSpaceFolder'
  });
  if (!result.button.accept || result.value === null) {
    return null;
  }
  return result.value;
}
