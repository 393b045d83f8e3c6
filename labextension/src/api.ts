/**
 * Typed client for the jupyter-spaces REST API (jupyter_spaces/schema/openapi.yaml).
 *
 * Requests go through ServerConnection, so they carry JupyterLab's token / XSRF handling, and
 * a refused request rejects with a ServerConnection.ResponseError whose `message` is the
 * server's own sentence ("the folder already has a space ..."), ready to show to a person.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { LayoutNode } from './layout';

export type PaneKind = 'shell' | 'command';
export type PaneState = 'running' | 'exited' | 'gone';
export type SpaceStatus = 'ok' | 'broken' | 'newer' | 'missing';

export interface IPane {
  id: string;
  space_id: string;
  kind: PaneKind;
  title: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  created: string;
  last_active: string;
  state: PaneState;
  exit_code: number | null;
  exit_signal: string | null;
  pid: number | null;
  rows: number | null;
  cols: number | null;
}

export interface ISpace {
  id: string;
  name: string;
  path: string;
  status: SpaceStatus;
  message: string | null;
  read_only: boolean;
  created: string | null;
  layout: LayoutNode | null;
  panes: IPane[];
}

export interface IHost {
  durable: boolean;
  tmux: string | null;
  message: string | null;
  unknown_sessions: string[];
}

export interface ISpaceList {
  spaces: ISpace[];
  host: IHost;
}

export interface INewPane {
  kind?: PaneKind;
  argv?: string[];
  cwd?: string;
  title?: string;
  env?: Record<string, string>;
  rows?: number;
  cols?: number;
  /** Split this pane's cell in the layout... */
  next_to?: string;
  /** ...side by side ("row") or one above the other ("column"). */
  direction?: 'row' | 'column';
}

export interface ISpacePatch {
  name?: string;
  layout?: LayoutNode | null;
}

const BASE = 'api/spaces';

export class SpacesAPI {
  constructor(readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  list(): Promise<ISpaceList> {
    return this._request<ISpaceList>('GET', []);
  }

  createSpace(path: string, name?: string): Promise<ISpace> {
    return this._request<ISpace>('POST', [], name ? { path, name } : { path });
  }

  getSpace(spaceId: string): Promise<ISpace> {
    return this._request<ISpace>('GET', [spaceId]);
  }

  patchSpace(spaceId: string, patch: ISpacePatch): Promise<ISpace> {
    return this._request<ISpace>('PATCH', [spaceId], patch);
  }

  async deleteSpace(spaceId: string, removeFiles = false): Promise<void> {
    await this._request<void>('DELETE', [spaceId], undefined, removeFiles ? '?remove_files=true' : '');
  }

  createPane(spaceId: string, pane: INewPane): Promise<IPane> {
    return this._request<IPane>('POST', [spaceId, 'panes'], pane);
  }

  getPane(spaceId: string, paneId: string): Promise<IPane> {
    return this._request<IPane>('GET', [spaceId, 'panes', paneId]);
  }

  patchPane(spaceId: string, paneId: string, patch: { title: string }): Promise<IPane> {
    return this._request<IPane>('PATCH', [spaceId, 'panes', paneId], patch);
  }

  async deletePane(spaceId: string, paneId: string): Promise<void> {
    await this._request<void>('DELETE', [spaceId, 'panes', paneId]);
  }

  restartPane(spaceId: string, paneId: string): Promise<IPane> {
    return this._request<IPane>('POST', [spaceId, 'panes', paneId, 'restart']);
  }

  /**
   * The WebSocket URL of a pane's live channel. `history` asks for that many lines of
   * scrollback in the redraw (null: the server's default, SpacesApp.attach_history).
   */
  channelUrl(spaceId: string, paneId: string, history: number | null): string {
    const s = this.serverSettings;
    const params: string[] = [];
    if (history !== null) {
      params.push(`history=${Math.max(0, Math.floor(history))}`);
    }
    // Browsers cannot set headers on a WebSocket; like JupyterLab's own terminal client we
    // put the token in the query when the settings say so (cookies cover the usual case).
    if (s.appendToken && s.token !== '') {
      params.push(`token=${encodeURIComponent(s.token)}`);
    }
    const url = URLExt.join(
      s.wsUrl,
      BASE,
      encodeURIComponent(spaceId),
      'panes',
      encodeURIComponent(paneId),
      'channel'
    );
    return params.length ? `${url}?${params.join('&')}` : url;
  }

  private async _request<T>(
    method: string,
    parts: string[],
    body?: unknown,
    query = ''
  ): Promise<T> {
    const url =
      URLExt.join(this.serverSettings.baseUrl, BASE, ...parts.map(p => encodeURIComponent(p))) + query;
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    // A network failure rejects here already, as a ServerConnection.NetworkError.
    const response = await ServerConnection.makeRequest(url, init, this.serverSettings);
    if (!response.ok) {
      // Reads the server's {"message": ...} so the dialog says what is wrong.
      throw await ServerConnection.ResponseError.create(response);
    }
    if (response.status === 204) {
      return undefined as T;
    }
    return (await response.json()) as T;
  }
}
