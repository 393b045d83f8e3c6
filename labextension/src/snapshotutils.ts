/**
 * The pure part of trust and snapshots: the words and numbers the snapshot list shows, the
 * server's refusals read defensively, and the list of commands the Trust dialog shows.
 *
 * The Trust dialog is the one place a person decides whether a file that came with a folder
 * may run programs, so what it shows must be exactly what would run: each argument is quoted
 * the way a shell would need it, and characters that print as nothing or reorder text (control
 * characters, bidirectional overrides, zero-width spaces) are shown as escapes, never as
 * themselves. No DOM here: the text goes into text nodes, and all of it is unit-tested in node
 * (test/snapshots.test.ts).
 */

import type { IPane, IRestoreRefusal, IRunPlan, ISnapshot, ISpace, ISpacePlan } from './api';
import type { ITrans } from './sessionutils';
import { agentLabel, englishTrans, paneKindLabel } from './sessionutils';

/** What the banner of an untrusted space says, and the tooltip of what it cannot do. */
export const UNTRUSTED_MESSAGE =
  "This space's file was not written by you (it came with the folder or was edited). Nothing in it runs until you trust it.";

/** Whether a space is untrusted (an older server that does not say is taken as trusting). */
export function isUntrusted(space: Pick<ISpace, 'trusted'> | null | undefined): boolean {
  return space !== null && space !== undefined && space.trusted === false;
}

/** Snapshot ids as the server makes them: UTC date, time and a random part. */
export const SNAPSHOT_ID = /^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$/;

export function isSnapshotId(id: unknown): id is string {
  return typeof id === 'string' && SNAPSHOT_ID.test(id);
}

// ---- showing text exactly ----------------------------------------------------------------

/**
 * Characters that must never reach the screen as themselves in a confirmation: C0 and C1
 * controls and DEL (a newline or carriage return could fake a second line), the soft hyphen,
 * zero-width characters, bidirectional marks, embeddings, overrides and isolates (which
 * reorder what is shown), line and paragraph separators, and the byte-order mark.
 */
// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
// eslint-disable-next-line no-control-regex
const HIDDEN_ALL = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };

function escapeChar(c: string): string {
  if (NAMED[c] !== undefined) {
    return NAMED[c];
  }
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Whether `text` holds characters that would not show as themselves. */
export function hasHiddenCharacters(text: string): boolean {
  return HIDDEN.test(text);
}

/** `text` with every hidden character written as an escape (\n, \x1b, \u202e). */
export function visibleText(text: string): string {
  return text.replace(HIDDEN_ALL, escapeChar);
}

const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One argument as a POSIX shell would need it typed: plain words as they are, others in single
 * quotes, and words with hidden characters in $'...' with those characters escaped, so the
 * result is always one line that shows every character.
 */
export function quoteArg(word: string): string {
  if (word === '') {
    return "''";
  }
  if (PLAIN_WORD.test(word)) {
    return word;
  }
  if (hasHiddenCharacters(word)) {
    let out = '';
    for (const c of word) {
      if (c === '\\' || c === "'") {
        out += `\\${c}`;
      } else if (HIDDEN.test(c)) {
        out += escapeChar(c);
      } else {
        out += c;
      }
    }
    return `$'${out}'`;
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one line a person can read and a shell would run the same way. */
export function commandLine(argv: readonly unknown[] | null | undefined): string {
  if (!Array.isArray(argv)) {
    return '';
  }
  return argv.map(a => quoteArg(typeof a === 'string' ? a : String(a))).join(' ');
}

// ---- the Trust dialog --------------------------------------------------------------------

/** What one pane of an untrusted space would run once trusted. */
export interface ITrustItem {
  paneId: string;
  /** The pane's title, hidden characters escaped. */
  title: string;
  /** "shell", "command", "Claude Code", ... */
  kind: string;
  /** The program and its arguments, quoted ("" when the file names none). */
  command: string;
  /** Where it starts, relative to the space's folder ("." for the folder itself). */
  cwd: string;
  /** Environment additions, "NAME=value", quoted. */
  env: string[];
  /** What else happens: waits for Enter, shows saved text, a shell after the agent, runs now. */
  notes: string[];
}

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) && value.every(v => typeof v === 'string') ? (value as string[]) : null;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = typeof v === 'string' ? v : String(v);
    }
  }
  return out;
}

/** `cwd` (relative to the server's root) relative to the space's folder `base`. */
function fromSpace(cwd: string, base: string): string {
  if (cwd === base) {
    return '.';
  }
  return base && cwd.startsWith(`${base}/`) ? cwd.slice(base.length + 1) : `/${cwd}`;
}

/**
 * What each pane of the space runs, from the server's plan (the one thing the server starts):
 * every word quoted and every hidden character escaped.
 */
export function trustItems(
  plan: Pick<ISpacePlan, 'plans'>,
  space: Pick<ISpace, 'panes' | 'path'>,
  trans: ITrans = englishTrans
): ITrustItem[] {
  const plans: IRunPlan[] = Array.isArray(plan.plans) ? plan.plans : [];
  const panes: IPane[] = Array.isArray(space.panes) ? space.panes : [];
  return plans.map(p => {
    const pane = panes.find(x => x.id === p.pane_id);
    const argv = stringList(p.argv) ?? [];
    const env = stringMap(p.env);
    const notes: string[] = [];
    if (p.running) {
      notes.push(trans.__('It runs now; this is what it runs when it is started again.'));
    }
    if (p.prints) {
      notes.push(trans.__('First shows the saved text of %1, as plain text.', visibleText(p.prints)));
    }
    if (p.waits_for_enter) {
      notes.push(trans.__('Waits for Enter before it runs.'));
    }
    if (p.then_shell) {
      notes.push(trans.__('When it ends, %1 takes over.', quoteArg(p.then_shell)));
    }
    return {
      paneId: p.pane_id,
      title: visibleText(pane?.title || (pane ? paneKindLabel(pane) : p.pane_id)),
      kind: pane ? paneKindLabel(pane) : visibleText(String(p.kind)),
      command: commandLine(argv),
      cwd: visibleText(fromSpace(typeof p.cwd === 'string' ? p.cwd : '', space.path || '')),
      env: Object.keys(env)
        .sort()
        .map(k => `${quoteArg(k)}=${quoteArg(env[k])}`),
      notes
    };
  });
}

/** The Trust dialog's content as plain text (for a copy, a log, a test). */
export function trustText(
  plan: Pick<ISpacePlan, 'plans'>,
  space: Pick<ISpace, 'panes' | 'name' | 'path'>,
  trans: ITrans = englishTrans
): string {
  const items = trustItems(plan, space, trans);
  if (items.length === 0) {
    return trans.__('The space has no panes: trusting it starts nothing.');
  }
  const lines = [
    trans._n(
      'Trusting %2 lets its pane run:',
      'Trusting %2 lets its %1 panes run:',
      items.length,
      visibleText(space.name)
    )
  ];
  for (const item of items) {
    const where = item.cwd === '.' ? trans.__("in the space's folder") : trans.__('in %1/', item.cwd);
    lines.push(`• ${item.title} (${item.kind}, ${where})`);
    lines.push(`    ${item.command}`);
    for (const e of item.env) {
      lines.push(`    ${trans.__('environment: %1', e)}`);
    }
    for (const note of item.notes) {
      lines.push(`    ${note}`);
    }
  }
  return lines.join('\n');
}

// ---- snapshots ---------------------------------------------------------------------------

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** 0 → "0 B", 900 → "900 B", 1536 → "1.5 KiB", 20 480 → "20 KiB", 3 × 2^20 → "3 MiB". */
export function formatBytes(n: number | null | undefined): string {
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    return '0 B';
  }
  if (n < 1024) {
    return `${Math.round(n)} B`;
  }
  let v = n;
  let unit = 'B';
  for (const u of BYTE_UNITS) {
    if (v < 1024 && unit !== 'B') {
      break;
    }
    v /= 1024;
    unit = u;
  }
  // One decimal below 10 ("1.5 KiB"), none from 10 on ("20 KiB"); 1023.96 KiB is "1 MiB".
  let text = v < 9.95 ? v.toFixed(1).replace(/\.0$/, '') : String(Math.round(v));
  if (Number(text) >= 1024 && unit !== BYTE_UNITS[BYTE_UNITS.length - 1]) {
    unit = BYTE_UNITS[BYTE_UNITS.indexOf(unit) + 1];
    text = '1';
  }
  return `${text} ${unit}`;
}

/** What a snapshot is called in the list and in questions: its name, else when it was taken. */
export function snapshotLabel(
  snapshot: Pick<ISnapshot, 'name' | 'created' | 'id'>,
  formatTime: (value: string) => string,
  trans: ITrans = englishTrans
): string {
  const name = typeof snapshot.name === 'string' ? visibleText(snapshot.name.trim()) : '';
  if (name) {
    return name;
  }
  const when = snapshot.created ? formatTime(snapshot.created) : '';
  return when ? trans.__('snapshot of %1', when) : trans.__('snapshot %1', snapshot.id);
}

/** "1 pane", "3 panes". */
export function panesText(snapshot: Pick<ISnapshot, 'panes'>, trans: ITrans = englishTrans): string {
  const n = Array.isArray(snapshot.panes) ? snapshot.panes.length : 0;
  return trans._n('%1 pane', '%1 panes', n);
}

/** The panes of a snapshot one per line, for a tooltip. */
export function panesDetail(snapshot: Pick<ISnapshot, 'panes'>, trans: ITrans = englishTrans): string {
  const panes = Array.isArray(snapshot.panes) ? snapshot.panes : [];
  return panes
    .map(p => {
      const kind = paneKindLabel(p);
      const title = visibleText(p.title || kind);
      const extra: string[] = [];
      if (title !== kind) {
        extra.push(kind);
      }
      if (p.kind === 'agent') {
        extra.push(p.transcript ? trans.__('transcript saved') : trans.__('no transcript'));
      }
      return extra.length ? `${title} (${extra.join(', ')})` : title;
    })
    .join('\n');
}

/** "" when every transcript was saved, else "1 transcript missing" / "2 transcripts missing". */
export function missingText(snapshot: Pick<ISnapshot, 'missing_transcripts'>, trans: ITrans = englishTrans): string {
  const n = Array.isArray(snapshot.missing_transcripts) ? snapshot.missing_transcripts.length : 0;
  return n === 0 ? '' : trans._n('%1 transcript missing', '%1 transcripts missing', n);
}

/** Which transcripts are missing, one per line, for the warning's tooltip. */
export function missingDetail(snapshot: Pick<ISnapshot, 'missing_transcripts'>, trans: ITrans = englishTrans): string {
  const missing = Array.isArray(snapshot.missing_transcripts) ? snapshot.missing_transcripts : [];
  if (missing.length === 0) {
    return '';
  }
  return [
    trans.__('Not found when the snapshot was taken (the CLI may have deleted them); these conversations cannot be resumed from it:'),
    ...missing.map(m => trans.__('%1 session %2', agentLabel(m?.agent), visibleText(String(m?.session_id ?? '?'))))
  ].join('\n');
}

/** Newest first, by creation time, then by id (which sorts by time too). */
export function sortSnapshots(snapshots: readonly ISnapshot[]): ISnapshot[] {
  const time = (s: ISnapshot) => {
    const t = Date.parse(s.created);
    return Number.isNaN(t) ? 0 : t;
  };
  return [...snapshots].sort((a, b) => time(b) - time(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** The longest name the server takes. */
export const MAX_SNAPSHOT_NAME = 200;

/**
 * A name typed for a new snapshot: trimmed, "" for none. Throws (with the sentence to show)
 * for one the server would refuse.
 */
export function snapshotName(text: string | null | undefined, trans: ITrans = englishTrans): string {
  const name = (text ?? '').trim();
  if (name.length > MAX_SNAPSHOT_NAME) {
    throw new Error(trans.__('A snapshot name has at most %1 characters.', MAX_SNAPSHOT_NAME));
  }
  if (hasHiddenCharacters(name)) {
    throw new Error(trans.__('A snapshot name cannot hold control or invisible characters.'));
  }
  return name;
}

/** "keep" for a prune as typed: a whole number from 0 up, or null. */
export function parseKeep(value: string | number | null | undefined): number | null {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? value : null;
  }
  if (typeof value !== 'string' || !/^\s*\d{1,6}\s*$/.test(value)) {
    return null;
  }
  return Number(value.trim());
}

/** `?keep=N&older_than_days=D` for the prune route ("" when neither is given). */
export function pruneQueryString(options: { keep?: number | null; olderThanDays?: number | null }): string {
  const params: string[] = [];
  if (typeof options.keep === 'number' && Number.isFinite(options.keep)) {
    params.push(`keep=${Math.max(0, Math.floor(options.keep))}`);
  }
  if (typeof options.olderThanDays === 'number' && Number.isFinite(options.olderThanDays)) {
    params.push(`older_than_days=${Math.max(0, options.olderThanDays)}`);
  }
  return params.length ? `?${params.join('&')}` : '';
}

/** The body of a refused restore (reason "running", "newer", ...), read defensively. */
export function restoreRefusal(status: number, body: unknown): IRestoreRefusal {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  return {
    status,
    reason: typeof b.reason === 'string' && b.reason ? b.reason : null,
    message: typeof b.message === 'string' && b.message ? b.message : `The server refused (HTTP ${status}).`,
    panes: Array.isArray(b.panes) ? b.panes.filter((p): p is string => typeof p === 'string') : []
  };
}

/** "Restoring stops 2 running panes in proj. Continue?" */
export function restoreQuestion(running: number, spaceName: string, trans: ITrans = englishTrans): string {
  return trans._n(
    'Restoring stops %1 running pane in %2. Continue?',
    'Restoring stops %1 running panes in %2. Continue?',
    Math.max(1, running),
    visibleText(spaceName)
  );
}
