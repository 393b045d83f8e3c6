import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { AgentState } from '../src/api';
import type { IAgentNotice, INoticeSink } from '../src/notifyrules';
import {
  AgentNoticeBook,
  DEFAULT_NOTIFY_SETTINGS,
  desktopText,
  noticeKey,
  noticeKind,
  noticeText,
  readNotifySettings,
  titleWithCount
} from '../src/notifyrules';

const settings = { ...DEFAULT_NOTIFY_SETTINGS };

describe('noticeKind', () => {
  it('tells about needs_input always, and about idle only after a long enough turn', () => {
    assert.equal(noticeKind({ state: 'needs_input', workingSeconds: 0 }, settings), 'needs_input');
    assert.equal(noticeKind({ state: 'idle', workingSeconds: 20 }, settings), 'turn_ended');
    assert.equal(noticeKind({ state: 'idle', workingSeconds: 19.9 }, settings), null);
    assert.equal(noticeKind({ state: 'idle', workingSeconds: 3 }, { ...settings, notifyWhenIdleAfterSeconds: 0 }), 'turn_ended');
  });

  it('says nothing about the other states, nor when notifications are off', () => {
    for (const state of ['starting', 'working', 'exited'] as AgentState[]) {
      assert.equal(noticeKind({ state, workingSeconds: 999 }, settings), null, state);
    }
    const off = { ...settings, notifications: false };
    assert.equal(noticeKind({ state: 'needs_input', workingSeconds: 0 }, off), null);
    assert.equal(noticeKind({ state: 'idle', workingSeconds: 999 }, off), null);
  });
});

describe('readNotifySettings', () => {
  it('reads the three settings, with defaults for missing or odd values', () => {
    assert.deepEqual(readNotifySettings({}), { notifications: true, notifyWhenIdleAfterSeconds: 20, desktopNotifications: false });
    assert.deepEqual(readNotifySettings({ notifications: false, notifyWhenIdleAfterSeconds: 5, desktopNotifications: true }), {
      notifications: false,
      notifyWhenIdleAfterSeconds: 5,
      desktopNotifications: true
    });
    assert.equal(readNotifySettings({ notifyWhenIdleAfterSeconds: -1 }).notifyWhenIdleAfterSeconds, 20);
    assert.equal(readNotifySettings({ notifyWhenIdleAfterSeconds: '30' }).notifyWhenIdleAfterSeconds, 20);
    assert.equal(readNotifySettings({ notifications: 'yes' }).notifications, true);
  });
});

const notice = (state: AgentState, over: Partial<IAgentNotice> = {}): IAgentNotice => ({
  key: noticeKey('s1', 'p1'),
  kind: state === 'needs_input' ? 'needs_input' : 'turn_ended',
  spaceId: 's1',
  paneId: 'p1',
  spaceName: 'website',
  paneTitle: 'Claude Code',
  state,
  reason: null,
  workingSeconds: 0,
  ...over
});

describe('noticeText', () => {
  it('names the pane and the space, and why', () => {
    assert.equal(noticeText(notice('needs_input', { reason: 'permission' })), 'Claude Code in space website needs you: it asks for permission.');
    assert.equal(noticeText(notice('needs_input')), 'Claude Code in space website needs your input.');
    assert.equal(noticeText(notice('needs_input', { reason: 'some_new_reason' })), 'Claude Code in space website needs your input.');
    assert.equal(
      noticeText(notice('idle', { workingSeconds: 125 })),
      'Claude Code in space website finished its turn after 2 min of work.'
    );
    assert.deepEqual(desktopText(notice('needs_input')), {
      title: 'Claude Code needs you',
      body: 'Claude Code in space website needs your input.'
    });
  });
});

/** A sink that records what the book asked of it; `closed` ids no longer exist. */
class FakeSink implements INoticeSink {
  calls: string[] = [];
  shown = new Map<string, IAgentNotice>();
  closed = new Set<string>();
  private _next = 0;

  emit(n: IAgentNotice): string {
    const id = `n${++this._next}`;
    this.shown.set(id, n);
    this.calls.push(`emit ${id} ${n.state}`);
    return id;
  }

  update(id: string, n: IAgentNotice): boolean {
    if (this.closed.has(id) || !this.shown.has(id)) {
      this.calls.push(`update ${id} failed`);
      return false;
    }
    this.shown.set(id, n);
    this.calls.push(`update ${id} ${n.state}`);
    return true;
  }

  dismiss(id: string): void {
    this.shown.delete(id);
    this.calls.push(`dismiss ${id}`);
  }
}

const change = (state: AgentState, since: string, paneId = 'p1') => ({ spaceId: 's1', paneId, state, since });

describe('AgentNoticeBook', () => {
  it('shows one notification per pane and per change, counting a repeated change once', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    assert.equal(book.handle(change('needs_input', 't1'), notice('needs_input')), 'emitted');
    assert.equal(book.handle(change('needs_input', 't1'), notice('needs_input')), 'duplicate');
    assert.deepEqual(sink.calls, ['emit n1 needs_input']);
    assert.equal(sink.shown.size, 1);
  });

  it('updates the pane\'s notification for a new change instead of stacking a second one', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    book.handle(change('idle', 't1'), notice('idle', { workingSeconds: 40 }));
    assert.equal(book.handle(change('needs_input', 't2'), notice('needs_input')), 'updated');
    assert.deepEqual(sink.calls, ['emit n1 idle', 'update n1 needs_input']);
    assert.equal(sink.shown.size, 1);
    assert.equal(book.open.get('s1/p1')?.state, 'needs_input');
  });

  it('dismisses a needs_input notification when the agent goes back to working', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    book.handle(change('needs_input', 't1'), notice('needs_input'));
    assert.equal(book.handle(change('working', 't2'), null), 'dismissed');
    assert.equal(sink.shown.size, 0);
    assert.equal(book.open.size, 0);
    // Needing the user again is a new change: a new notification.
    assert.equal(book.handle(change('needs_input', 't3'), notice('needs_input')), 'emitted');
    assert.deepEqual(sink.calls, ['emit n1 needs_input', 'dismiss n1', 'emit n2 needs_input']);
  });

  it('emits anew when the user closed the old notification', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    book.handle(change('needs_input', 't1'), notice('needs_input'));
    sink.closed.add('n1');
    assert.equal(book.handle(change('idle', 't2'), notice('idle', { workingSeconds: 60 })), 'emitted');
    assert.deepEqual(sink.calls, ['emit n1 needs_input', 'update n1 failed', 'emit n2 idle']);
  });

  it('forgets a notification the user closed or acted on, without dismissing it again', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    book.handle(change('needs_input', 't1'), notice('needs_input'));
    book.forget('n1');
    assert.equal(book.handle(change('working', 't2'), null), 'none');
    assert.deepEqual(sink.calls, ['emit n1 needs_input']);
  });

  it('keeps panes apart', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    book.handle(change('needs_input', 't1', 'p1'), notice('needs_input'));
    book.handle(change('needs_input', 't1', 'p2'), notice('needs_input', { paneId: 'p2', key: noticeKey('s1', 'p2') }));
    book.handle(change('working', 't2', 'p1'), null);
    assert.deepEqual([...book.open.keys()], ['s1/p2']);
  });

  it('a storm of changes on one pane never shows more than one notification', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    for (let i = 0; i < 100; i++) {
      const state: AgentState = i % 2 === 0 ? 'needs_input' : 'idle';
      book.handle(change(state, `t${i}`), notice(state, { workingSeconds: 30 }));
      book.handle(change(state, `t${i}`), notice(state, { workingSeconds: 30 }));
      assert.ok(sink.shown.size <= 1);
    }
    assert.equal(sink.calls.filter(c => c.startsWith('emit')).length, 1);
  });

  it('takes away notifications the model shows the panes have moved on from', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    book.handle(change('needs_input', 't1', 'p1'), notice('needs_input'));
    book.handle(change('idle', 't1', 'p2'), notice('idle', { paneId: 'p2', key: noticeKey('s1', 'p2'), workingSeconds: 50 }));
    book.handle(change('needs_input', 't1', 'p3'), notice('needs_input', { paneId: 'p3', key: noticeKey('s1', 'p3') }));
    const states: Record<string, AgentState | undefined> = { p1: 'needs_input', p2: 'working', p3: undefined };
    assert.deepEqual(book.reconcile((_, paneId) => states[paneId]), ['s1/p2', 's1/p3']);
    assert.deepEqual([...book.open.keys()], ['s1/p1']);
    assert.deepEqual(book.reconcile((_, paneId) => states[paneId]), []);
  });

  it('clears every notification at once', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    book.handle(change('needs_input', 't1', 'p1'), notice('needs_input'));
    book.handle(change('needs_input', 't1', 'p2'), notice('needs_input', { paneId: 'p2', key: noticeKey('s1', 'p2') }));
    book.clear();
    assert.equal(sink.shown.size, 0);
    assert.equal(book.open.size, 0);
  });
});

describe('titleWithCount', () => {
  it('puts the count in front and takes it away again', () => {
    let r = titleWithCount('website - JupyterLab', 2, null);
    assert.deepEqual(r, { title: '(2) website - JupyterLab', prefix: '(2) ' });
    r = titleWithCount(r.title, 3, r.prefix);
    assert.deepEqual(r, { title: '(3) website - JupyterLab', prefix: '(3) ' });
    r = titleWithCount(r.title, 0, r.prefix);
    assert.deepEqual(r, { title: 'website - JupyterLab', prefix: null });
  });

  it('puts it back in front of a title JupyterLab set anew', () => {
    assert.deepEqual(titleWithCount('notes.ipynb - JupyterLab', 1, '(1) '), { title: '(1) notes.ipynb - JupyterLab', prefix: '(1) ' });
  });

  it('leaves a title that only looks like it has a count alone', () => {
    assert.deepEqual(titleWithCount('(3) draft - JupyterLab', 0, null), { title: '(3) draft - JupyterLab', prefix: null });
    assert.deepEqual(titleWithCount('(3) draft - JupyterLab', 1, null), { title: '(1) (3) draft - JupyterLab', prefix: '(1) ' });
  });
});

describe('AgentNoticeBook.dismissWhere', () => {
  it('takes away the notifications of panes the user now sees, and stays quiet on a repeat', () => {
    const sink = new FakeSink();
    const book = new AgentNoticeBook(sink);
    book.handle(change('needs_input', 't1', 'p1'), notice('needs_input'));
    book.handle(change('needs_input', 't1', 'p2'), notice('needs_input', { paneId: 'p2', key: noticeKey('s1', 'p2') }));
    assert.deepEqual(book.dismissWhere(n => n.paneId === 'p1'), ['s1/p1']);
    assert.deepEqual([...book.open.keys()], ['s1/p2']);
    assert.equal(book.handle(change('needs_input', 't1', 'p1'), notice('needs_input')), 'duplicate');
  });
});
