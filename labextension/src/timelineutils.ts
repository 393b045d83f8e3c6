/**
 * The pure part of the snapshot timeline: the list grouped by day, the words for a snapshot's
 * reason, the sizes, the schedule as the user picks it, a text summary of a snapshot's layout
 * and conversations, and what a prune would do. No DOM and no JupyterLab here, so all of it is
 * unit-tested in node (test/timeline.test.ts).
 */

import type { ISnapshot, ISnapshotPane } from './api';
import type { LayoutNode } from './layout';
import type { ITrans } from './sessionutils';
import { agentLabel, englishTrans, paneKindLabel, parseTime } from './sessionutils';
import { formatBytes, visibleText } from './snapshotutils';

// ---- what the server says beyond ISnapshot ------------------------------------------------

export type SnapshotReason = 'manual' | 'scheduled' | 'before_restore' | 'before_trust' | 'agent_ended' | 'before_delete';

export const REASONS: readonly SnapshotReason[] = [
  'manual',
  'scheduled',
  'before_restore',
  'before_trust',
  'agent_ended',
  'before_delete'
];

/** A snapshot as GET …/snapshots lists it (the fields of issue 17 are optional: older servers). */
export interface ITimelineSnapshot extends ISnapshot {
  reason?: string;
  pinned?: boolean;
  /** What deleting this snapshot alone would free. */
  unique_bytes?: number;
  status?: 'ok' | 'corrupt' | 'newer' | string;
  message?: string | null;
  transcripts?: number;
}

/** What the space's snapshots take on disk (shared chunks counted once). */
export interface IDiskUsage {
  bytes?: number;
  logical_bytes?: number;
  snapshots?: number;
  blobs?: number;
}

export interface ITimelineList {
  snapshots: ITimelineSnapshot[];
  disk: IDiskUsage | null;
}

export interface IRetentionRules {
  last?: number | null;
  hourly?: number | null;
  daily?: number | null;
  weekly?: number | null;
}

export const RULES = ['last', 'hourly', 'daily', 'weekly'] as const;
export type RuleName = (typeof RULES)[number];

export interface ISnapshotSettings {
  /** The space's own schedule; null: the server's. */
  schedule: string | null;
  keep?: IRetentionRules | null;
  effective?: { schedule?: string; keep?: IRetentionRules };
  defaults?: { schedule?: string; keep?: IRetentionRules; auto_prune?: boolean };
  message?: string | null;
}

/** The answer of POST …/snapshots/prune. */
export interface IPolicyPruneResult {
  dry_run: boolean;
  policy?: IRetentionRules;
  deleted: string[];
  kept: string[];
  /** For each kept snapshot, the rules that keep it. */
  reasons?: Record<string, string[]>;
  freed_bytes?: number;
}

/** The list answer read defensively. */
export function readTimelineList(body: unknown): ITimelineList {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const snapshots = Array.isArray(b.snapshots) ? (b.snapshots as ITimelineSnapshot[]) : [];
  const disk = typeof b.disk === 'object' && b.disk !== null ? (b.disk as IDiskUsage) : null;
  return { snapshots, disk };
}

// ---- reasons ------------------------------------------------------------------------------

/** The short label of why a snapshot was taken ("Scheduled", "Before restore", ...). */
export function reasonLabel(reason: string | null | undefined, trans: ITrans = englishTrans): string {
  switch (reason ?? 'manual') {
    case 'manual':
      return trans.__('Manual');
    case 'scheduled':
      return trans.__('Scheduled');
    case 'before_restore':
      return trans.__('Before restore');
    case 'before_trust':
      return trans.__('Before trust');
    case 'agent_ended':
      return trans.__('Agent ended');
    case 'before_delete':
      return trans.__('Before delete');
    default:
      return visibleText(String(reason).replace(/_/g, ' '));
  }
}

/** The sentence behind the label, for its tooltip. */
export function reasonDescription(reason: string | null | undefined, trans: ITrans = englishTrans): string {
  switch (reason ?? 'manual') {
    case 'manual':
      return trans.__('Taken by hand.');
    case 'scheduled':
      return trans.__("Taken on the space's schedule, after activity in it.");
    case 'before_restore':
      return trans.__('The space as it was just before a snapshot was restored: restore it to undo that.');
    case 'before_trust':
      return trans.__('The space just before a changed workspace file was trusted and started.');
    case 'agent_ended':
      return trans.__('Taken when an agent ended or its pane was closed: it holds the conversation.');
    case 'before_delete':
      return trans.__('The space just before it was deleted.');
    default:
      return '';
  }
}

/** A reason the server may send that this front end does not know shows as "other" in CSS. */
export function reasonKey(reason: string | null | undefined): SnapshotReason | 'other' {
  const r = reason ?? 'manual';
  return (REASONS as readonly string[]).includes(r) ? (r as SnapshotReason) : 'other';
}

// ---- days ---------------------------------------------------------------------------------

const pad = (n: number) => String(n).padStart(2, '0');

/** "2026-11-24" for a time, in the browser's time zone. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "14:05" (or "14:05:09" with seconds) for a time, in the browser's time zone. */
export function timeOfDay(value: string | number | null | undefined, seconds = false): string {
  const t = parseTime(value ?? null);
  if (t === null) {
    return '';
  }
  const d = new Date(t);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${hm}:${pad(d.getSeconds())}` : hm;
}

/** Whether two of these snapshots fall in the same minute: then the list shows seconds. */
export function needsSeconds(snapshots: readonly Pick<ISnapshot, 'created'>[]): boolean {
  const seen = new Set<string>();
  for (const s of snapshots) {
    const hm = timeOfDay(s.created);
    if (hm !== '' && seen.has(hm)) {
      return true;
    }
    seen.add(hm);
  }
  return false;
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "Today", "Yesterday", "Tuesday 24 November 2026", or "Unknown date". */
export function dayLabel(key: string, now: number = Date.now(), trans: ITrans = englishTrans): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (m === null) {
    return trans.__('Unknown date');
  }
  if (key === dayKey(now)) {
    return trans.__('Today');
  }
  const yesterday = new Date(now);
  yesterday.setDate(yesterday.getDate() - 1);
  if (key === dayKey(yesterday.getTime())) {
    return trans.__('Yesterday');
  }
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return `${trans.__(WEEKDAYS[d.getDay()])} ${d.getDate()} ${trans.__(MONTHS[d.getMonth()])} ${d.getFullYear()}`;
}

export interface IDayGroup<T> {
  /** "2026-11-24", or "" for snapshots without a readable time. */
  key: string;
  snapshots: T[];
}

/**
 * The snapshots by day (the browser's time zone), the newest day first and the newest snapshot
 * first in each; those without a readable time come last, in one group.
 */
export function groupByDay<T extends Pick<ISnapshot, 'id' | 'created'>>(snapshots: readonly T[]): IDayGroup<T>[] {
  const time = (s: T) => parseTime(s.created);
  const sorted = [...snapshots].sort((a, b) => {
    const ta = time(a);
    const tb = time(b);
    if (ta !== tb) {
      return (tb ?? -Infinity) - (ta ?? -Infinity);
    }
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  });
  const groups: IDayGroup<T>[] = [];
  for (const s of sorted) {
    const t = time(s);
    const key = t === null ? '' : dayKey(t);
    const last = groups[groups.length - 1];
    if (last !== undefined && last.key === key) {
      last.snapshots.push(s);
    } else {
      groups.push({ key, snapshots: [s] });
    }
  }
  return groups;
}

// ---- sizes --------------------------------------------------------------------------------

/** "12 KiB on disk for 5 snapshots (38 KiB as whole copies)". */
export function diskText(disk: IDiskUsage | null | undefined, count: number, trans: ITrans = englishTrans): string {
  if (disk === null || disk === undefined || typeof disk.bytes !== 'number') {
    return trans._n('%1 snapshot', '%1 snapshots', count);
  }
  const n = typeof disk.snapshots === 'number' ? disk.snapshots : count;
  const main = trans._n('%2 on disk for %1 snapshot', '%2 on disk for %1 snapshots', n, formatBytes(disk.bytes));
  if (typeof disk.logical_bytes === 'number' && disk.logical_bytes > disk.bytes) {
    return `${main} ${trans.__('(%1 as whole copies)', formatBytes(disk.logical_bytes))}`;
  }
  return main;
}

/** What the snapshot alone takes ("1.5 KiB"), or its whole size when the server does not say. */
export function uniqueSize(snapshot: Pick<ITimelineSnapshot, 'unique_bytes' | 'bytes'>): string {
  return formatBytes(typeof snapshot.unique_bytes === 'number' ? snapshot.unique_bytes : snapshot.bytes);
}

export function uniqueSizeTitle(snapshot: Pick<ITimelineSnapshot, 'unique_bytes' | 'bytes'>, trans: ITrans = englishTrans): string {
  const whole = formatBytes(snapshot.bytes);
  if (typeof snapshot.unique_bytes !== 'number') {
    return trans.__('%1 as whole files', whole);
  }
  return trans.__(
    'Deleting it alone frees %1 (its own files and the chunks no other snapshot shares); its workspace file, screens and transcripts are %2 as whole files.',
    formatBytes(snapshot.unique_bytes),
    whole
  );
}

// ---- the schedule -------------------------------------------------------------------------

export type ScheduleChoice = 'default' | 'off' | 'hourly' | 'daily' | 'custom';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const CUSTOM = /^\s*([0-9]{1,9})\s*([smhd])\s*$/;
const MAX_SCHEDULE_SECONDS = 366 * 86400;

/** Which choice a schedule the server sends is: null is the server's own. */
export function scheduleChoice(schedule: string | null | undefined): ScheduleChoice {
  if (schedule === null || schedule === undefined || schedule === '') {
    return 'default';
  }
  if (schedule === 'off' || schedule === 'hourly' || schedule === 'daily') {
    return schedule;
  }
  return 'custom';
}

/** Seconds of a custom schedule ("30m" → 1800), or null when it is not one the server takes. */
export function scheduleSeconds(text: string): number | null {
  const m = CUSTOM.exec(text);
  if (m === null) {
    return null;
  }
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2]];
  return seconds >= 1 && seconds <= MAX_SCHEDULE_SECONDS ? seconds : null;
}

/**
 * The value to PATCH for a choice (null: the server's); throws with the sentence to show when a
 * custom one is not a whole number with a unit s, m, h or d from 1s to 366d.
 */
export function scheduleValue(choice: ScheduleChoice, custom: string, trans: ITrans = englishTrans): string | null {
  switch (choice) {
    case 'default':
      return null;
    case 'off':
    case 'hourly':
    case 'daily':
      return choice;
    default: {
      if (scheduleSeconds(custom) === null) {
        throw new Error(trans.__('A schedule is a whole number with a unit s, m, h or d (90s, 30m, 2h, 1d), from 1s to 366d.'));
      }
      return custom.replace(/\s+/g, '');
    }
  }
}

/** "every hour", "every 30 minutes", "off". */
export function scheduleText(schedule: string | null | undefined, trans: ITrans = englishTrans): string {
  if (schedule === 'off') {
    return trans.__('off');
  }
  if (schedule === 'hourly') {
    return trans.__('every hour');
  }
  if (schedule === 'daily') {
    return trans.__('every day');
  }
  const m = typeof schedule === 'string' ? CUSTOM.exec(schedule) : null;
  if (m === null) {
    return typeof schedule === 'string' ? visibleText(schedule) : '?';
  }
  const n = Number(m[1]);
  switch (m[2]) {
    case 's':
      return trans._n('every second', 'every %1 seconds', n);
    case 'm':
      return trans._n('every minute', 'every %1 minutes', n);
    case 'h':
      return trans._n('every hour', 'every %1 hours', n);
    default:
      return trans._n('every day', 'every %1 days', n);
  }
}

// ---- the preview --------------------------------------------------------------------------

/** "Claude Code (web)" for a pane as a snapshot recorded it. */
export function snapshotPaneLabel(pane: ISnapshotPane | undefined, id: string): string {
  if (pane === undefined) {
    return visibleText(id);
  }
  const kind = paneKindLabel(pane);
  const title = visibleText((pane.title || '').trim());
  return title && title !== kind ? `${title} (${kind})` : kind;
}

/**
 * The layout as indented lines, one per pane or split:
 *   side by side
 *     web (command)
 *     one above the other
 *       shell
 * Panes the layout leaves out are listed after it.
 */
export function layoutLines(
  layout: LayoutNode | null | undefined,
  panes: readonly ISnapshotPane[],
  trans: ITrans = englishTrans
): string[] {
  const byId = new Map(panes.map(p => [p.id, p]));
  const seen = new Set<string>();
  const lines: string[] = [];
  const walk = (node: LayoutNode, depth: number) => {
    const indent = '  '.repeat(depth);
    if (node === null || typeof node !== 'object') {
      return;
    }
    if (node.type === 'pane') {
      seen.add(node.pane);
      lines.push(indent + snapshotPaneLabel(byId.get(node.pane), node.pane));
      return;
    }
    const children = Array.isArray(node.children) ? node.children : [];
    if (children.length === 1) {
      walk(children[0], depth);
      return;
    }
    lines.push(indent + (node.direction === 'column' ? trans.__('one above the other') : trans.__('side by side')));
    for (const child of children) {
      walk(child, depth + 1);
    }
  };
  if (layout) {
    walk(layout, 0);
  }
  for (const p of panes) {
    if (!seen.has(p.id)) {
      lines.push(trans.__('%1, not in the layout', snapshotPaneLabel(p, p.id)));
    }
  }
  return lines;
}

/** "3 panes: 1 shell, 1 command, 1 agent". */
export function layoutSummary(panes: readonly ISnapshotPane[], trans: ITrans = englishTrans): string {
  if (panes.length === 0) {
    return trans.__('No panes.');
  }
  const count = (kind: string) => panes.filter(p => p.kind === kind).length;
  const parts: string[] = [];
  const shells = count('shell');
  const commands = count('command');
  const agents = count('agent');
  if (shells) {
    parts.push(trans._n('%1 shell', '%1 shells', shells));
  }
  if (commands) {
    parts.push(trans._n('%1 command', '%1 commands', commands));
  }
  if (agents) {
    parts.push(trans._n('%1 agent', '%1 agents', agents));
  }
  return `${trans._n('%1 pane', '%1 panes', panes.length)}: ${parts.join(', ')}`;
}

export interface IConversation {
  /** "Claude Code" */
  agent: string;
  sessionId: string;
  /** The pane it ran in (its label), or "" for a missing one no pane names. */
  pane: string;
  /** Its transcript is in the snapshot: it can be resumed from it. */
  saved: boolean;
}

/** The agent conversations a snapshot holds, and those it should have but could not find. */
export function conversations(snapshot: Pick<ISnapshot, 'panes' | 'missing_transcripts'>): IConversation[] {
  const out: IConversation[] = [];
  const panes = Array.isArray(snapshot.panes) ? snapshot.panes : [];
  for (const p of panes) {
    if (p.kind === 'agent' && p.session_id) {
      out.push({
        agent: agentLabel(p.agent),
        sessionId: visibleText(p.session_id),
        pane: snapshotPaneLabel(p, p.id),
        saved: p.transcript === true
      });
    }
  }
  const missing = Array.isArray(snapshot.missing_transcripts) ? snapshot.missing_transcripts : [];
  for (const m of missing) {
    const id = visibleText(String(m?.session_id ?? '?'));
    const known = out.find(c => c.sessionId === id);
    if (known !== undefined) {
      known.saved = false;
    } else {
      out.push({ agent: agentLabel(m?.agent), sessionId: id, pane: '', saved: false });
    }
  }
  return out;
}

/** "2.1 KiB of screen text", or "no screen text". */
export function screenText(pane: Pick<ISnapshotPane, 'screen_bytes'>, trans: ITrans = englishTrans): string {
  const n = typeof pane.screen_bytes === 'number' ? pane.screen_bytes : 0;
  return n > 0 ? trans.__('%1 of screen text', formatBytes(n)) : trans.__('no screen text');
}

/** A pane's screen text as GET …/snapshots/{id}/screens/{pane} gives it. */
export interface IScreenText {
  pane_id: string;
  text: string;
  /** Size of the whole saved screen. */
  bytes: number;
  /** Only the end of the screen is in text. */
  truncated: boolean;
}

/**
 * Saved screen text made safe to show as plain text: escape sequences (colours, cursor moves)
 * dropped, carriage returns before newlines dropped, other control characters and those that
 * reorder text shown as escapes, trailing blank lines trimmed.
 */
export function screenPreview(text: string): string {
  const plain = String(text ?? '')
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '')
    .replace(/\r\n/g, '\n');
  return plain
    .split('\n')
    .map(line => visibleText(line.replace(/\t/g, '    ').replace(/\s+$/, '')))
    .join('\n')
    .replace(/\n+$/, '');
}

// ---- pruning ------------------------------------------------------------------------------

/** The rules as typed in the prune form: "" for none (0), else a whole number. Throws when not. */
export function parseRules(typed: Partial<Record<RuleName, string>>, trans: ITrans = englishTrans): Required<IRetentionRules> {
  const out: Record<string, number> = {};
  for (const rule of RULES) {
    const text = (typed[rule] ?? '').trim();
    if (text === '') {
      out[rule] = rule === 'last' ? 1 : 0;
      continue;
    }
    if (!/^\d{1,6}$/.test(text)) {
      throw new Error(trans.__('Keep %1: type a whole number.', ruleLabel(rule, trans)));
    }
    const n = Number(text);
    if (rule === 'last' && n < 1) {
      throw new Error(trans.__('Keep the newest: at least 1.'));
    }
    out[rule] = n;
  }
  return out as Required<IRetentionRules>;
}

/** The rules as the form shows them ("" for a rule that is not set). */
export function rulesText(rules: IRetentionRules | null | undefined): Record<RuleName, string> {
  const out = {} as Record<RuleName, string>;
  for (const rule of RULES) {
    const v = rules?.[rule];
    out[rule] = typeof v === 'number' ? String(v) : '';
  }
  return out;
}

export function ruleLabel(rule: RuleName, trans: ITrans = englishTrans): string {
  switch (rule) {
    case 'last':
      return trans.__('the newest');
    case 'hourly':
      return trans.__('hourly, hours');
    case 'daily':
      return trans.__('daily, days');
    default:
      return trans.__('weekly, weeks');
  }
}

/** Why a kept snapshot stays: "newest, pinned". */
export function keptBecause(reasons: readonly string[] | null | undefined, trans: ITrans = englishTrans): string {
  const words: Record<string, string> = {
    last: trans.__('among the newest'),
    hourly: trans.__('newest of its hour'),
    daily: trans.__('newest of its day'),
    weekly: trans.__('newest of its week'),
    named: trans.__('named'),
    pinned: trans.__('pinned'),
    unreadable: trans.__('unreadable')
  };
  return (reasons ?? []).map(r => words[r] ?? visibleText(String(r))).join(', ');
}

/** "Would delete 2 snapshots and free 3 KiB." / "Nothing to prune: every snapshot is kept." */
export function pruneHeadline(result: Pick<IPolicyPruneResult, 'deleted' | 'freed_bytes' | 'dry_run'>, trans: ITrans = englishTrans): string {
  const n = result.deleted.length;
  if (n === 0) {
    return trans.__('Nothing to prune: every snapshot is kept.');
  }
  const freed = formatBytes(result.freed_bytes ?? 0);
  return result.dry_run
    ? trans._n('Would delete %1 snapshot and free %2:', 'Would delete %1 snapshots and free %2:', n, freed)
    : trans._n('Deleted %1 snapshot, freed %2.', 'Deleted %1 snapshots, freed %2.', n, freed);
}
