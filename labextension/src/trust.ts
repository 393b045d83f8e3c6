/**
 * The question before trusting a space: what its panes would run, from the server's plan (what
 * the server then starts, and nothing else), shown exactly (each command quoted, invisible
 * characters escaped by snapshotutils.trustItems), in text nodes only.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type { ISpace, ISpacePlan } from './api';
import { UNTRUSTED_MESSAGE, trustItems, visibleText } from './snapshotutils';

/** The body of the Trust dialog. */
export function trustBody(space: ISpace, plan: ISpacePlan, trans: TranslationBundle): Widget {
  const body = new Widget();
  body.addClass('jp-Spaces-trustBody');
  const node = body.node;
  const para = (text: string, className: string) => {
    const p = document.createElement('p');
    p.className = className;
    p.textContent = text;
    node.appendChild(p);
    return p;
  };
  para(trans.__(UNTRUSTED_MESSAGE), 'jp-Spaces-trustWhy');
  if (plan.copy_of) {
    para(
      trans.__('This folder is a copy of another space (%1); trusting it gives it its own id.', visibleText(plan.copy_of)),
      'jp-Spaces-trustCopy'
    );
  }
  const items = trustItems(plan, space, trans);
  if (items.length === 0) {
    para(trans.__('The space has no panes: trusting it starts nothing.'), 'jp-Spaces-trustIntro');
  } else {
    para(
      trans._n(
        'Trusting it lets its pane run exactly this:',
        'Trusting it lets its %1 panes run exactly this:',
        items.length
      ),
      'jp-Spaces-trustIntro'
    );
    const list = document.createElement('ul');
    list.className = 'jp-Spaces-trustList';
    for (const item of items) {
      const li = document.createElement('li');
      li.className = 'jp-Spaces-trustItem';
      li.dataset.paneId = item.paneId;
      const head = document.createElement('div');
      head.className = 'jp-Spaces-trustPane';
      const title = document.createElement('strong');
      title.textContent = item.title;
      const meta = document.createElement('span');
      meta.className = 'jp-Spaces-trustMeta';
      meta.textContent = ` ${item.kind}, ${item.cwd === '.' ? trans.__("in the space's folder") : trans.__('in %1/', item.cwd)}`;
      head.append(title, meta);
      const command = document.createElement('code');
      command.className = 'jp-Spaces-trustCommand';
      command.textContent = item.command;
      li.append(head, command);
      for (const e of item.env) {
        const env = document.createElement('code');
        env.className = 'jp-Spaces-trustEnv';
        env.textContent = trans.__('environment: %1', e);
        li.appendChild(env);
      }
      for (const note of item.notes) {
        const n = document.createElement('div');
        n.className = 'jp-Spaces-trustNote';
        n.textContent = note;
        li.appendChild(n);
      }
      list.appendChild(li);
    }
    node.appendChild(list);
  }
  para(
    trans.__('Trust it only if you know where %1 came from.', `${visibleText(space.path || '')}/.jupyter-spaces/space.json`),
    'jp-Spaces-trustAdvice'
  );
  return body;
}

/** Ask whether to trust `space`; true for yes. */
export async function confirmTrust(space: ISpace, plan: ISpacePlan, trans: TranslationBundle): Promise<boolean> {
  const result = await showDialog({
    title: trans.__('Trust the space %1?', visibleText(space.name)),
    body: trustBody(space, plan, trans),
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: trans.__('Trust') })],
    defaultButton: 0
  });
  return result.button.accept;
}
