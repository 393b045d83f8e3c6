/**
 * When an agent pane's state change is worth telling the user, and how the tellings are kept to
 * one per pane (issue 13).
 *
 * Pure: the decision (`noticeKind`), the words (`noticeText`), the per-pane book that turns a
 * stream of changes into emit / update / dismiss calls on a sink (`AgentNoticeBook`), and the
 * tab title's "(2) " prefix (`titleWithCount`). agentnotifications.ts wires them to
 * JupyterLab's Notification API, the browser's and the document title.
 */

import type { AgentState } from './api';
import { formatDuration, reasonText } from './agentstate';
import type { IAgentStateChange } from './events';
import type { ITrans } from './sessionutils';
import { englishTrans } from './sessionutils';

/** The notification settings (schema/plugin.json). */
export interface INotifySettings {
  /** JupyterLab notifications for agents that need the user or ended a long turn (and the title count). */
  notifications: boolean;
  /** An agent that turns idle notifies only if it was working at least this long (seconds). */
  notifyWhenIdleAfterSeconds: number;
  /** Also a desktop notification through the browser, while this tab is hidden or unfocused. */
  desktopNotifications: boolean;
}

export const DEFAULT_NOTIFY_SETTINGS: INotifySettings = {
  notifications: true,
  notifyWhenIdleAfterSeconds: 20,
  desktopNotifications: false
};

/** The notification settings from the plugin's composite settings; defaults for anything odd. */
export function readNotifySettings(composite: Record<string, unknown>): INotifySettings {
  const out = { ...DEFAULT_NOTIFY_SETTINGS };
  if (typeof composite.notifications === 'boolean') {
    out.notifications = composite.notifications;
  }
  if (typeof composite.desktopNotifications === 'boolean') {
    out.desktopNotifications = composite.desktopNotifications;
  }
  const after = composite.notifyWhenIdleAfterSeconds;
  if (typeof after === 'number' && Number.isFinite(after) && after >= 0) {
    out.notifyWhenIdleAfterSeconds = after;
  }
  return out;
}

/**
 * - `needs_input`: the agent is blocked on the user (a permission prompt, a question, a login);
 * - `turn_ended`: the agent went idle after working at least the threshold.
 */
export type NoticeKind = 'needs_input' | 'turn_ended';

/** Whether `change` is worth a notification at all (before asking whether the user looks). */
export function noticeKind(
  change: Pick<IAgentStateChange, 'state' | 'workingSeconds'>,
  settings: INotifySettings
): NoticeKind | null {
  if (!settings.notifications) {
    return null;
  }
  if (change.state === 'needs_input') {
    return 'needs_input';
  }
  if (change.state === 'idle' && change.workingSeconds >= settings.notifyWhenIdleAfterSeconds) {
    return 'turn_ended';
  }
  return null;
}

/** One notification about one pane. */
export interface IAgentNotice {
  /** `${spaceId}/${paneId}`: the notification's identity; a desktop notification's tag. */
  key: string;
  kind: NoticeKind;
  spaceId: string;
  paneId: string;
  spaceName: string;
  paneTitle: string;
  state: AgentState;
  reason: string | null;
  workingSeconds: number;
}

export function noticeKey(spaceId: string, paneId: string): string {
  return `${spaceId}/${paneId}`;
}

/** The notification's sentence, naming the pane and its space. */
export function noticeText(notice: IAgentNotice, trans: ITrans = englishTrans): string {
  if (notice.kind === 'needs_input') {
    const why = reasonText(notice.reason, trans);
    return why
      ? trans.__('%1 in space %2 needs you: it %3.', notice.paneTitle, notice.spaceName, why)
      : trans.__('%1 in space %2 needs your input.', notice.paneTitle, notice.spaceName);
  }
  return trans.__(
    '%1 in space %2 finished its turn after %3 of work.',
    notice.paneTitle,
    notice.spaceName,
    formatDuration(notice.workingSeconds, trans)
  );
}

/** A desktop notification's title and body (the browser shows the site's name itself). */
export function desktopText(notice: IAgentNotice, trans: ITrans = englishTrans): { title: string; body: string } {
  return {
    title:
      notice.kind === 'needs_input'
        ? trans.__('%1 needs you', notice.paneTitle)
        : trans.__('%1 finished its turn', notice.paneTitle),
    body: noticeText(notice, trans)
  };
}

/** Where the book's notifications go (JupyterLab's Notification API in the app, a fake in tests). */
export interface INoticeSink {
  /** Show a new notification; returns its id. */
  emit(notice: IAgentNotice): string;
  /** Replace notification `id` with `notice`; false if it no longer exists (the user closed it). */
  update(id: string, notice: IAgentNotice): boolean;
  dismiss(id: string, notice: IAgentNotice): void;
}

/** What the book did with a change. */
export type BookAction = 'emitted' | 'updated' | 'dismissed' | 'duplicate' | 'none';

interface IEntry {
  /** The last change seen for the pane (state and its time), to drop repeats. */
  state: AgentState;
  since: string;
  /** Its notification now, if any. */
  id: string | null;
  notice: IAgentNotice | null;
}

/**
 * At most one notification per pane. A change for a pane that has one replaces it (an update,
 * never a second toast); a change that is not worth telling (back to working), or that the user
 * sees happen, takes the old one away; a change seen twice (an announcement and a re-read)
 * counts once.
 */
export class AgentNoticeBook {
  constructor(private readonly _sink: INoticeSink) {}

  /** Notifications shown now, by pane key. */
  get open(): ReadonlyMap<string, IAgentNotice> {
    const out = new Map<string, IAgentNotice>();
    for (const [key, entry] of this._entries) {
      if (entry.id !== null && entry.notice !== null) {
        out.set(key, entry.notice);
      }
    }
    return out;
  }

  /**
   * Take one change. `notice` is what to show for it (null when it is not worth telling, or
   * when the user is looking at the pane).
   */
  handle(change: Pick<IAgentStateChange, 'spaceId' | 'paneId' | 'state' | 'since'>, notice: IAgentNotice | null): BookAction {
    const key = noticeKey(change.spaceId, change.paneId);
    const entry = this._entries.get(key);
    if (entry !== undefined && entry.state === change.state && entry.since === change.since && change.since !== '') {
      return 'duplicate';
    }
    const next: IEntry = { state: change.state, since: change.since, id: null, notice: null };
    this._entries.set(key, next);
    if (notice === null) {
      if (entry?.id != null && entry.notice !== null) {
        this._sink.dismiss(entry.id, entry.notice);
        return 'dismissed';
      }
      return 'none';
    }
    next.notice = notice;
    if (entry?.id != null && this._sink.update(entry.id, notice)) {
      next.id = entry.id;
      return 'updated';
    }
    next.id = this._sink.emit(notice);
    return 'emitted';
  }

  /**
   * Take away notifications the panes have moved on from, by what the model holds now
   * (`stateOf` returns undefined for a pane or space that is gone): changes missed while the
   * event socket was down, deleted panes.
   */
  reconcile(stateOf: (spaceId: string, paneId: string) => AgentState | null | undefined): string[] {
    const dismissed: string[] = [];
    for (const [key, entry] of this._entries) {
      if (entry.notice === null) {
        continue;
      }
      const now = stateOf(entry.notice.spaceId, entry.notice.paneId);
      if (now === undefined) {
        this._entries.delete(key);
      } else if (now === entry.notice.state) {
        continue;
      }
      if (entry.id !== null) {
        this._sink.dismiss(entry.id, entry.notice);
        dismissed.push(key);
      }
      entry.id = null;
      entry.notice = null;
    }
    return dismissed;
  }

  /**
   * Take away the notifications `seen` says the user now sees (they switched to the pane's space
   * themselves). The pane's state is unchanged, so a repeat of the same change stays quiet.
   */
  dismissWhere(seen: (notice: IAgentNotice) => boolean): string[] {
    const dismissed: string[] = [];
    for (const [key, entry] of this._entries) {
      if (entry.id !== null && entry.notice !== null && seen(entry.notice)) {
        this._sink.dismiss(entry.id, entry.notice);
        dismissed.push(key);
        entry.id = null;
        entry.notice = null;
      }
    }
    return dismissed;
  }

  /** The notification of a pane was closed by the user (or its button used): forget its id. */
  forget(id: string): void {
    for (const entry of this._entries.values()) {
      if (entry.id === id) {
        entry.id = null;
        entry.notice = null;
      }
    }
  }

  /** Take every notification away (notifications turned off, the plugin disposed). */
  clear(): void {
    for (const entry of this._entries.values()) {
      if (entry.id !== null && entry.notice !== null) {
        this._sink.dismiss(entry.id, entry.notice);
      }
      entry.id = null;
      entry.notice = null;
    }
  }

  private _entries = new Map<string, IEntry>();
}

/**
 * The document title with the count of panes that need the user in front ("(2) name - JupyterLab"),
 * or without it when none do. `ours` is the prefix this function put there last time (null if
 * none): only that prefix is taken off, so a title that happens to start with "(3) " keeps it.
 */
export function titleWithCount(title: string, count: number, ours: string | null): { title: string; prefix: string | null } {
  const bare = ours !== null && title.startsWith(ours) ? title.slice(ours.length) : title;
  if (count <= 0) {
    return { title: bare, prefix: null };
  }
  const prefix = `(${count}) `;
  return { title: prefix + bare, prefix };
}
