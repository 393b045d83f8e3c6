/**
 * Desktop notifications through the browser's Notification API, one per pane: a newer one for
 * the same pane replaces the older (the same `tag`), and taking a notice away closes it.
 *
 * Browsers only ask for the permission from a user's click or key press, so `requestPermission`
 * is called from a command (the palette's "Enable desktop notifications for agents").
 */

/** The browser's Notification constructor, or null (no API, an insecure origin, a worker). */
function api(): typeof window.Notification | null {
  return typeof window !== 'undefined' && 'Notification' in window ? window.Notification : null;
}

/** 'granted', 'denied', 'default', or 'unsupported'. */
export function desktopPermission(): NotificationPermission | 'unsupported' {
  return api()?.permission ?? 'unsupported';
}

/** Ask the browser (call it from a click). Resolves with the permission it has after. */
export async function requestDesktopPermission(): Promise<NotificationPermission | 'unsupported'> {
  const N = api();
  if (N === null) {
    return 'unsupported';
  }
  if (N.permission !== 'default') {
    return N.permission;
  }
  return N.requestPermission();
}

export class DesktopNotifier {
  /** Show (or replace) the notification for `key`; `onClick` runs when the user clicks it. */
  show(key: string, title: string, body: string, onClick: () => void): void {
    const N = api();
    if (N === null || N.permission !== 'granted') {
      return;
    }
    this.close(key);
    let n: Notification;
    try {
      n = new N(title, { body, tag: `jupyter-spaces:${key}` });
    } catch (error) {
      // Chrome on Android only allows them from a service worker.
      console.debug('jupyter-spaces: no desktop notification', error);
      return;
    }
    n.onclick = () => {
      window.focus();
      onClick();
      n.close();
    };
    n.onclose = () => {
      if (this._shown.get(key) === n) {
        this._shown.delete(key);
      }
    };
    this._shown.set(key, n);
  }

  close(key: string): void {
    const n = this._shown.get(key);
    if (n !== undefined) {
      this._shown.delete(key);
      n.close();
    }
  }

  closeAll(): void {
    for (const key of [...this._shown.keys()]) {
      this.close(key);
    }
  }

  private _shown = new Map<string, Notification>();
}
