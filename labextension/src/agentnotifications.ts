/**
 * Telling the user when an agent needs them (issue 13): JupyterLab notifications with an
 * "Open pane" button, optional desktop notifications, and the count of panes that need the
 * user in the browser tab's title.
 *
 * The rules (when, how often, what it says) are in notifyrules.ts; this module applies them to
 * the announcements the model passes on, to what the user has in front of them, and to
 * JupyterLab's Notification API.
 */

import type { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { Notification } from '@jupyterlab/apputils';
import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { CommandRegistry } from '@lumino/commands';
import type { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';

import { agentStateOf, totalNeedsInput } from './agentstate';
import { DesktopNotifier, desktopPermission, requestDesktopPermission } from './desktopnotify';
import type { IAgentStateChange } from './events';
import type { SpacesModel } from './model';
import type { IAgentNotice, INoticeSink, INotifySettings } from './notifyrules';
import {
  AgentNoticeBook,
  DEFAULT_NOTIFY_SETTINGS,
  desktopText,
  noticeKey,
  noticeKind,
  noticeText,
  titleWithCount
} from './notifyrules';
import { agentLabel } from './sessionutils';
import type { SpaceView } from './spaceview';
import { CommandIDs, PLUGIN_ID } from './tokens';

export interface IAgentNotificationsOptions {
  model: SpacesModel;
  tracker: WidgetTracker<MainAreaWidget<SpaceView>>;
  commands: CommandRegistry;
  trans: TranslationBundle;
}

/** How long a "finished its turn" toast stays (needs-input ones stay until answered). */
const TURN_ENDED_MS = 20000;

export class AgentNotifications implements IDisposable {
  constructor(options: IAgentNotificationsOptions) {
    this._model = options.model;
    this._tracker = options.tracker;
    this._commands = options.commands;
    this._trans = options.trans;
    this._book = new AgentNoticeBook(this._sink);
    this._model.agentStateChanged.connect(this._onChange, this);
    this._model.changed.connect(this._onModelChanged, this);
    Notification.manager.changed.connect(this._onNotification, this);
    // A notification about a pane the user went to look at has done its job.
    this._tracker.currentChanged.connect(this._onLookChanged, this);
    document.addEventListener('visibilitychange', this._onLookChanged);
    // JupyterLab sets the title as the current tab changes: put the count back in front.
    this._titleObserver = new MutationObserver(() => this._applyTitle());
    this._titleObserver.observe(document.head, { childList: true, subtree: true, characterData: true });
    this._applyTitle();
  }

  get settings(): INotifySettings {
    return this._settings;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  setSettings(settings: INotifySettings): void {
    this._settings = settings;
    if (!settings.notifications) {
      this._book.clear();
    }
    if (!settings.desktopNotifications) {
      this._desktop.closeAll();
    }
    this._applyTitle();
  }

  /**
   * Whether the user has the pane in front of them: the browser tab is visible, the pane's
   * space view is visible (its tab is the current one of its area), and the pane is not hidden
   * behind another, maximized pane.
   */
  isLooking(spaceId: string, paneId: string): boolean {
    if (document.visibilityState !== 'visible') {
      return false;
    }
    const widget = this._tracker.find(w => w.content.spaceId === spaceId);
    if (widget === undefined || !widget.isVisible) {
      return false;
    }
    return widget.content.pane(paneId)?.isVisible ?? false;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._titleObserver.disconnect();
    document.removeEventListener('visibilitychange', this._onLookChanged);
    window.cancelAnimationFrame(this._lookFrame);
    this._book.clear();
    this._desktop.closeAll();
    Notification.manager.changed.disconnect(this._onNotification, this);
    this._applyTitle();
    Signal.clearData(this);
  }

  private _onChange(_: SpacesModel, change: IAgentStateChange): void {
    const kind = noticeKind(change, this._settings);
    const notice: IAgentNotice | null =
      kind === null || this.isLooking(change.spaceId, change.paneId)
        ? null
        : {
            key: noticeKey(change.spaceId, change.paneId),
            kind,
            spaceId: change.spaceId,
            paneId: change.paneId,
            spaceName: this._model.space(change.spaceId)?.name ?? change.spaceId,
            paneTitle: this._paneTitle(change),
            state: change.state,
            reason: change.reason,
            workingSeconds: change.workingSeconds
          };
    this._book.handle(change, notice);
  }

  private _paneTitle(change: IAgentStateChange): string {
    const pane = this._model.pane(change.spaceId, change.paneId);
    if (pane?.title) {
      return pane.title;
    }
    const agent = pane?.agent ?? change.agentName;
    return agent ? agentLabel(agent) : this._trans.__('Pane %1', change.paneId);
  }

  private _onModelChanged(): void {
    this._book.reconcile((spaceId, paneId) => {
      const pane = this._model.pane(spaceId, paneId);
      return pane === undefined ? undefined : agentStateOf(pane);
    });
    this._applyTitle();
  }

  /** After the layout settles (the new tab is shown), drop notifications about panes now in view. */
  private _onLookChanged = (): void => {
    window.cancelAnimationFrame(this._lookFrame);
    this._lookFrame = window.requestAnimationFrame(() => {
      if (!this._isDisposed) {
        this._book.dismissWhere(n => this.isLooking(n.spaceId, n.paneId));
      }
    });
  };

  /** A notification closed by the user, or by its own button: it is no longer ours to update. */
  private _onNotification(_: unknown, change: Notification.IChange): void {
    if (change.type === 'removed') {
      this._book.forget(change.notification.id);
    }
  }

  private _applyTitle(): void {
    const count = this._isDisposed || !this._settings.notifications ? 0 : totalNeedsInput(this._model.spaces);
    if (count === 0 && this._prefix === null) {
      return;
    }
    const { title, prefix } = titleWithCount(document.title, count, this._prefix);
    this._prefix = prefix;
    if (title !== document.title) {
      document.title = title;
    }
  }

  private _openPane(spaceId: string, paneId: string): void {
    void this._commands
      .execute(CommandIDs.open, { spaceId, paneId })
      .catch(error => console.error('jupyter-spaces: could not open the pane', error));
  }

  private _options(notice: IAgentNotice): Notification.IOptions<{ spaceId: string; paneId: string; kind: string }> {
    return {
      autoClose: notice.kind === 'needs_input' ? false : TURN_ENDED_MS,
      actions: [
        {
          label: this._trans.__('Open pane'),
          caption: this._trans.__('Open space %1 and focus this pane', notice.spaceName),
          displayType: 'accent',
          callback: () => this._openPane(notice.spaceId, notice.paneId)
        }
      ],
      data: { spaceId: notice.spaceId, paneId: notice.paneId, kind: notice.kind }
    };
  }

  private _showDesktop(id: string, notice: IAgentNotice): void {
    if (!this._settings.desktopNotifications) {
      return;
    }
    // The toast is enough for someone looking at this tab.
    if (document.visibilityState === 'visible' && document.hasFocus()) {
      this._desktop.close(notice.key);
      return;
    }
    const { title, body } = desktopText(notice, this._trans);
    this._desktop.show(notice.key, title, body, () => {
      this._openPane(notice.spaceId, notice.paneId);
      Notification.dismiss(id);
    });
  }

  private _sink: INoticeSink = {
    emit: notice => {
      const type = notice.kind === 'needs_input' ? 'warning' : 'info';
      const id = Notification.emit(noticeText(notice, this._trans), type, this._options(notice));
      this._showDesktop(id, notice);
      return id;
    },
    update: (id, notice) => {
      const updated = Notification.update({
        id,
        message: noticeText(notice, this._trans),
        type: notice.kind === 'needs_input' ? 'warning' : 'info',
        ...this._options(notice)
      });
      if (updated) {
        this._showDesktop(id, notice);
      }
      return updated;
    },
    dismiss: (id, notice) => {
      Notification.dismiss(id);
      this._desktop.close(notice.key);
    }
  };

  private _model: SpacesModel;
  private _tracker: WidgetTracker<MainAreaWidget<SpaceView>>;
  private _commands: CommandRegistry;
  private _trans: TranslationBundle;
  private _book: AgentNoticeBook;
  private _desktop = new DesktopNotifier();
  private _settings: INotifySettings = { ...DEFAULT_NOTIFY_SETTINGS };
  private _titleObserver: MutationObserver;
  private _prefix: string | null = null;
  private _lookFrame = 0;
  private _isDisposed = false;
}

/**
 * "Enable desktop notifications for agents": asks the browser for the permission (browsers only
 * ask from a click or a key press, which running a command is) and turns the setting on; run
 * again while on, it turns them off.
 */
export function addDesktopNotificationsCommand(
  commands: CommandRegistry,
  settingRegistry: ISettingRegistry | null,
  notifications: AgentNotifications,
  trans: TranslationBundle
): void {
  const on = () => notifications.settings.desktopNotifications && desktopPermission() === 'granted';
  commands.addCommand(CommandIDs.enableDesktopNotifications, {
    label: () =>
      on() ? trans.__('Disable desktop notifications for agents') : trans.__('Enable desktop notifications for agents'),
    caption: trans.__(
      'Desktop notifications when an agent pane needs you or finished a long turn while this tab is in the background'
    ),
    isToggled: on,
    isEnabled: () => settingRegistry !== null,
    execute: async () => {
      if (settingRegistry === null) {
        return;
      }
      if (on()) {
        await settingRegistry.set(PLUGIN_ID, 'desktopNotifications', false);
        return;
      }
      const permission = await requestDesktopPermission();
      if (permission === 'granted') {
        await settingRegistry.set(PLUGIN_ID, 'desktopNotifications', true);
        Notification.success(trans.__('Desktop notifications for agents are on.'), { autoClose: 4000 });
      } else if (permission === 'unsupported') {
        Notification.warning(trans.__('This browser has no desktop notifications for this page.'), { autoClose: 8000 });
      } else {
        Notification.warning(
          trans.__(
            'The browser did not allow notifications (%1). Allow them for this site in its settings, then try again.',
            permission
          ),
          { autoClose: 8000 }
        );
      }
      commands.notifyCommandChanged(CommandIDs.enableDesktopNotifications);
    }
  });
}
