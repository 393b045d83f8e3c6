import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ISnapshotPane } from '../src/api';
import type { LayoutNode } from '../src/layout';
import {
  REASONS,
  conversations,
  dayKey,
  dayLabel,
  diskText,
  groupByDay,
  keptBecause,
  layoutLines,
  layoutSummary,
  needsSeconds,
  parseRules,
  pruneHeadline,
  readTimelineList,
  reasonDescription,
  reasonKey,
  reasonLabel,
  rulesText,
  scheduleChoice,
  scheduleSeconds,
  scheduleText,
  scheduleValue,
  screenPreview,
  screenText,
  timeOfDay,
  uniqueSize,
  uniqueSizeTitle
} from '../src/timelineutils';

/** A local time as the ISO string the server would send for it. */
const at = (y: number, mo: number, d: number, h = 12, mi = 0) => new Date(y, mo - 1, d, h, mi).toISOString();
const snap = (id: string, created: string) => ({ id, created });

const pane = (over: Partial<ISnapshotPane>): ISnapshotPane => ({
  id: 'p1',
  title: '',
  kind: 'shell',
  agent: null,
  session_id: null,
  screen_bytes: 0,
  transcript: false,
  ...over
});

describe('reasons', () => {
  it('labels every reason the server sends', () => {
    assert.deepEqual(
      REASONS.map(r => reasonLabel(r)),
      ['Manual', 'Scheduled', 'Before restore', 'Before trust', 'Agent ended', 'Before delete']
    );
    for (const r of REASONS) {
      assert.notEqual(reasonDescription(r), '');
      assert.equal(reasonKey(r), r);
    }
  });

  it('takes a missing reason as manual (older snapshots) and shows unknown ones readably', () => {
    assert.equal(reasonLabel(undefined), 'Manual');
    assert.equal(reasonKey(null), 'manual');
    assert.equal(reasonLabel('after_lunch'), 'after lunch');
    assert.equal(reasonKey('after_lunch'), 'other');
    assert.equal(reasonLabel('x\u202ey'), 'x\\u202ey');
    assert.equal(reasonDescription('after_lunch'), '');
  });
});

describe('grouping by day', () => {
  it('groups newest day first, newest first within a day', () => {
    const list = [
      snap('a', at(2026, 11, 24, 9)),
      snap('b', at(2026, 11, 25, 8)),
      snap('c', at(2026, 11, 24, 18)),
      snap('d', at(2026, 11, 25, 23, 59)),
      snap('e', at(2026, 10, 1, 0, 1))
    ];
    const groups = groupByDay(list);
    assert.deepEqual(
      groups.map(g => [g.key, g.snapshots.map(s => s.id)]),
      [
        ['2026-11-25', ['d', 'b']],
        ['2026-11-24', ['c', 'a']],
        ['2026-10-01', ['e']]
      ]
    );
  });

  it('orders equal times by id and puts unreadable times last', () => {
    const t = at(2026, 11, 24, 9);
    const groups = groupByDay([snap('20261124-090000-aaaa', t), snap('x', 'not a time'), snap('20261124-090000-bbbb', t)]);
    assert.deepEqual(groups.map(g => g.key), ['2026-11-24', '']);
    assert.deepEqual(groups[0].snapshots.map(s => s.id), ['20261124-090000-bbbb', '20261124-090000-aaaa']);
    assert.deepEqual(groupByDay([]), []);
  });

  it('names today, yesterday and other days', () => {
    const now = new Date(2026, 10, 25, 10).getTime();
    assert.equal(dayLabel('2026-11-25', now), 'Today');
    assert.equal(dayLabel('2026-11-24', now), 'Yesterday');
    assert.equal(dayLabel('2026-11-20', now), 'Friday 20 November 2026');
    assert.equal(dayLabel('', now), 'Unknown date');
    // Across a month boundary.
    assert.equal(dayLabel('2026-11-30', new Date(2026, 11, 1, 0, 30).getTime()), 'Yesterday');
  });

  it('shows the time of day in the local zone', () => {
    assert.equal(timeOfDay(at(2026, 11, 24, 7, 5)), '07:05');
    assert.equal(timeOfDay(at(2026, 11, 24, 7, 5), true).slice(0, 6), '07:05:');
    assert.equal(timeOfDay('nonsense'), '');
    assert.equal(needsSeconds([{ created: at(2026, 11, 24, 7, 5) }, { created: at(2026, 11, 24, 7, 6) }]), false);
    assert.equal(needsSeconds([{ created: at(2026, 11, 24, 7, 5) }, { created: at(2026, 11, 24, 7, 5) }]), true);
    assert.equal(dayKey(new Date(2026, 0, 2, 3).getTime()), '2026-01-02');
  });
});

describe('sizes', () => {
  it('says what the snapshots take on disk', () => {
    assert.equal(diskText({ bytes: 12 * 1024, logical_bytes: 38 * 1024, snapshots: 5 }, 5), '12 KiB on disk for 5 snapshots (38 KiB as whole copies)');
    assert.equal(diskText({ bytes: 2048, logical_bytes: 2048, snapshots: 1 }, 1), '2 KiB on disk for 1 snapshot');
    assert.equal(diskText(null, 3), '3 snapshots');
    assert.equal(diskText({}, 0), '0 snapshots');
  });

  it("shows a snapshot's own size, its whole size when the server does not say", () => {
    assert.equal(uniqueSize({ unique_bytes: 1536, bytes: 90000 }), '1.5 KiB');
    assert.equal(uniqueSize({ unique_bytes: 0, bytes: 90000 }), '0 B');
    assert.equal(uniqueSize({ bytes: 3 * 1024 * 1024 }), '3 MiB');
    assert.match(uniqueSizeTitle({ unique_bytes: 1536, bytes: 4096 }), /frees 1\.5 KiB .*are 4 KiB as whole files/);
    assert.equal(uniqueSizeTitle({ bytes: 4096 }), '4 KiB as whole files');
  });

  it('reads the list answer defensively', () => {
    assert.deepEqual(readTimelineList(null), { snapshots: [], disk: null });
    assert.deepEqual(readTimelineList({ snapshots: 'x', disk: 3 }), { snapshots: [], disk: null });
    const list = readTimelineList({ snapshots: [{ id: 'a' }], disk: { bytes: 1 } });
    assert.equal(list.snapshots.length, 1);
    assert.deepEqual(list.disk, { bytes: 1 });
  });
});

describe('the schedule', () => {
  it('maps what the server sends to a choice', () => {
    assert.equal(scheduleChoice(null), 'default');
    assert.equal(scheduleChoice(undefined), 'default');
    assert.equal(scheduleChoice('off'), 'off');
    assert.equal(scheduleChoice('hourly'), 'hourly');
    assert.equal(scheduleChoice('daily'), 'daily');
    assert.equal(scheduleChoice('30m'), 'custom');
  });

  it('checks a custom schedule as the server does', () => {
    assert.equal(scheduleSeconds('30m'), 1800);
    assert.equal(scheduleSeconds(' 2h '), 7200);
    assert.equal(scheduleSeconds('366d'), 366 * 86400);
    assert.equal(scheduleSeconds('367d'), null);
    assert.equal(scheduleSeconds('0s'), null);
    assert.equal(scheduleSeconds('1.5h'), null);
    assert.equal(scheduleSeconds('10'), null);
    assert.equal(scheduleSeconds('hourly'), null);
  });

  it('gives the value to send, or the sentence to show', () => {
    assert.equal(scheduleValue('default', ''), null);
    assert.equal(scheduleValue('off', 'ignored'), 'off');
    assert.equal(scheduleValue('hourly', ''), 'hourly');
    assert.equal(scheduleValue('daily', ''), 'daily');
    assert.equal(scheduleValue('custom', ' 90 s'), '90s');
    assert.throws(() => scheduleValue('custom', '5 minutes'), /whole number with a unit/);
  });

  it('says the schedule in words', () => {
    assert.equal(scheduleText('off'), 'off');
    assert.equal(scheduleText('hourly'), 'every hour');
    assert.equal(scheduleText('daily'), 'every day');
    assert.equal(scheduleText('30m'), 'every 30 minutes');
    assert.equal(scheduleText('1m'), 'every minute');
    assert.equal(scheduleText('2h'), 'every 2 hours');
    assert.equal(scheduleText('90s'), 'every 90 seconds');
    assert.equal(scheduleText('3d'), 'every 3 days');
    assert.equal(scheduleText(null), '?');
  });
});

describe('the preview', () => {
  const panes = [
    pane({ id: 'a', kind: 'command', title: 'web', screen_bytes: 2150 }),
    pane({ id: 'b', kind: 'shell' }),
    pane({ id: 'c', kind: 'agent', agent: 'claude', session_id: 's-1', transcript: true }),
    pane({ id: 'd', kind: 'shell', title: 'stray' })
  ];
  const layout: LayoutNode = {
    type: 'split',
    direction: 'row',
    sizes: [0.5, 0.5],
    children: [
      { type: 'pane', pane: 'a' },
      {
        type: 'split',
        direction: 'column',
        sizes: [0.5, 0.5],
        children: [
          { type: 'pane', pane: 'b' },
          { type: 'pane', pane: 'c' }
        ]
      }
    ]
  };

  it('draws the layout as indented lines, panes outside it after', () => {
    assert.deepEqual(layoutLines(layout, panes), [
      'side by side',
      '  web (command)',
      '  one above the other',
      '    shell',
      '    Claude Code',
      'stray (shell), not in the layout'
    ]);
    assert.deepEqual(layoutLines(null, []), []);
    assert.deepEqual(layoutLines({ type: 'pane', pane: 'zz' }, []), ['zz']);
  });

  it('sums the panes up by kind', () => {
    assert.equal(layoutSummary(panes), '4 panes: 2 shells, 1 command, 1 agent');
    assert.equal(layoutSummary([pane({})]), '1 pane: 1 shell');
    assert.equal(layoutSummary([]), 'No panes.');
  });

  it('lists the conversations it holds and the missing ones', () => {
    const convs = conversations({
      panes: [...panes, pane({ id: 'e', kind: 'agent', agent: 'codex', session_id: 's-2', transcript: false })],
      missing_transcripts: [
        { agent: 'codex', session_id: 's-2' },
        { agent: 'gemini', session_id: 's-3' }
      ]
    });
    assert.deepEqual(convs, [
      { agent: 'Claude Code', sessionId: 's-1', pane: 'Claude Code', saved: true },
      { agent: 'Codex', sessionId: 's-2', pane: 'Codex', saved: false },
      { agent: 'Gemini', sessionId: 's-3', pane: '', saved: false }
    ]);
    assert.deepEqual(conversations({ panes: [], missing_transcripts: [] }), []);
  });

  it('says how much screen text a pane kept', () => {
    assert.equal(screenText(panes[0]), '2.1 KiB of screen text');
    assert.equal(screenText(panes[1]), 'no screen text');
  });
});

describe('screen text', () => {
  it('shows saved screen text as plain text', () => {
    assert.equal(screenPreview('$ ls\r\n\x1b[1;34mdir\x1b[0m  file   \r\n\n\n'), '$ ls\ndir  file');
    assert.equal(screenPreview('\x1b]0;title\x07a\tb'), 'a    b');
    assert.equal(screenPreview('x\u202ey\x07'), 'x\\u202ey\\x07');
    assert.equal(screenPreview('a\\tb'), 'a\\tb');
    assert.equal(screenPreview(''), '');
  });
});

describe('pruning', () => {
  it('reads the rules as typed', () => {
    assert.deepEqual(parseRules({ last: '3', hourly: '24', daily: '', weekly: '0' }), { last: 3, hourly: 24, daily: 0, weekly: 0 });
    assert.deepEqual(parseRules({}), { last: 1, hourly: 0, daily: 0, weekly: 0 });
    assert.throws(() => parseRules({ last: '0' }), /at least 1/);
    assert.throws(() => parseRules({ daily: '-1' }), /whole number/);
    assert.throws(() => parseRules({ weekly: '2.5' }), /whole number/);
  });

  it('fills the form from the rules in effect', () => {
    assert.deepEqual(rulesText({ last: 10, hourly: 24, daily: null }), { last: '10', hourly: '24', daily: '', weekly: '' });
    assert.deepEqual(rulesText(null), { last: '', hourly: '', daily: '', weekly: '' });
  });

  it('says why a snapshot stays and what a prune does', () => {
    assert.equal(keptBecause(['last', 'pinned']), 'among the newest, pinned');
    assert.equal(keptBecause(['named', 'daily', 'novel']), 'named, newest of its day, novel');
    assert.equal(keptBecause(undefined), '');
    assert.equal(pruneHeadline({ deleted: ['a', 'b'], freed_bytes: 3072, dry_run: true }), 'Would delete 2 snapshots and free 3 KiB:');
    assert.equal(pruneHeadline({ deleted: ['a'], freed_bytes: 0, dry_run: false }), 'Deleted 1 snapshot, freed 0 B.');
    assert.equal(pruneHeadline({ deleted: [], dry_run: true }), 'Nothing to prune: every snapshot is kept.');
  });
});
