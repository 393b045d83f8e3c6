/**
 * The pure part of the Sessions panel: the search query, the server's highlighted snippet cut
 * into text pieces, and the words and numbers a result row shows. No DOM and no JupyterLab
 * here, so all of it is unit-tested in node (test/sessions.test.ts).
 */

import type { IResumeRefusal, ISession, ISessionQuery } from './api';

/** The agents the server indexes, in the order the filter lists them. */
export const AGENTS = ['claude', 'codex', 'gemini'] as const;

const AGENT_LABELS: Record<string, string> = {
  claude: 'Claude Code',
  codex: 'Codex',
  gemini: 'Gemini',
  custom: 'Agent'
};

/** A person's name for an agent CLI ("claude" → "Claude Code"); unknown names as they are. */
export function agentLabel(agent: string | null | undefined): string {
  if (!agent) {
    return 'Agent';
  }
  return AGENT_LABELS[agent] ?? agent;
}

/** What a pane header calls a pane's kind: the agent's name for agent panes, else the kind. */
export function paneKindLabel(pane: { kind: string; agent?: string | null }): string {
  return pane.kind === 'agent' ? agentLabel(pane.agent) : pane.kind;
}

/** How many results a page holds, and the most the panel asks for with "Show more". */
export const PAGE_SIZE = 50;
export const MAX_RESULTS = 500;

/** The search as the panel holds it: what was typed and the two filters. */
export interface ISearchState {
  text: string;
  agent: string | null;
  space: string | null;
  limit?: number;
}

/** Words as typed, with runs of white space made one space; "" for nothing to search. */
export function normalizeQuery(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The REST query for a search: by relevance when there are words to look for, otherwise the
 * most recent first. Empty filters are left out.
 */
export function queryFor(state: ISearchState): ISessionQuery {
  const q = normalizeQuery(state.text);
  const query: ISessionQuery = {
    limit: Math.min(MAX_RESULTS, Math.max(1, Math.floor(state.limit ?? PAGE_SIZE))),
    order: q ? 'relevance' : 'recent'
  };
  if (q) {
    query.q = q;
  }
  if (state.agent) {
    query.agent = state.agent;
  }
  if (state.space) {
    query.space = state.space;
  }
  return query;
}

const QUERY_KEYS: Array<keyof ISessionQuery> = [
  'q',
  'agent',
  'space',
  'cwd',
  'since',
  'until',
  'limit',
  'offset',
  'order',
  'subagents'
];

/** `?q=...&agent=...` for GET /api/spaces/sessions ("" when there is nothing to say). */
export function sessionQueryString(query: ISessionQuery): string {
  const params: string[] = [];
  for (const key of QUERY_KEYS) {
    const value = query[key];
    if (value === undefined || value === null || value === '') {
      continue;
    }
    let text: string;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) {
        continue;
      }
      text = String(Math.max(0, Math.floor(value)));
    } else {
      text = String(value);
    }
    params.push(`${key}=${encodeURIComponent(text)}`);
  }
  return params.length ? `?${params.join('&')}` : '';
}

/**
 * The body of a refused resume (reason "no_space", "gone", "already_open", "outside_root",
 * "not_resumable", "missing_cli", ...), read defensively: a proxy may answer with anything.
 */
export function resumeRefusal(status: number, body: unknown): IResumeRefusal {
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const message = typeof b.message === 'string' && b.message ? b.message : `The server refused (HTTP ${status}).`;
  return {
    status,
    reason: typeof b.reason === 'string' && b.reason ? b.reason : null,
    message,
    path: typeof b.path === 'string' ? b.path : null,
    space_id: typeof b.space_id === 'string' && b.space_id ? b.space_id : null,
    pane_id: typeof b.pane_id === 'string' && b.pane_id ? b.pane_id : null
  };
}

// ---- the snippet ------------------------------------------------------------------------

/** A piece of a snippet: plain text, or a match to highlight. */
export interface ISnippetPart {
  text: string;
  mark: boolean;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * The text an HTML-escaped string stands for. Only character references are read: the result
 * is for text nodes, never for markup, so "&lt;script&gt;" becomes the harmless text "<script>".
 */
export function unescapeHtml(text: string): string {
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      // No NUL, no lone surrogates, nothing past Unicode: those stay as written.
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
        return whole;
      }
      return String.fromCodePoint(code);
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/**
 * The server's snippet (HTML-escaped text with the matches wrapped in <mark>…</mark>) as
 * pieces of plain text, the matches flagged, for building text nodes and <mark> elements.
 *
 * Only the exact `<mark>` and `</mark>` markers mean anything; any other tag-like text is
 * text. A `</mark>` with no open mark is dropped, a `<mark>` inside a mark is dropped, and a
 * mark left open runs to the end. Adjacent pieces of the same kind are joined, empty ones left
 * out.
 */
export function splitSnippet(snippet: string | null | undefined): ISnippetPart[] {
  if (!snippet) {
    return [];
  }
  const parts: ISnippetPart[] = [];
  const push = (raw: string, mark: boolean) => {
    const text = unescapeHtml(raw);
    if (!text) {
      return;
    }
    const last = parts[parts.length - 1];
    if (last !== undefined && last.mark === mark) {
      last.text += text;
    } else {
      parts.push({ text, mark });
    }
  };
  let open = false;
  let start = 0;
  const marker = /<(\/?)mark>/gi;
  let m: RegExpExecArray | null;
  while ((m = marker.exec(snippet)) !== null) {
    const closing = m[1] === '/';
    if (closing === open) {
      push(snippet.slice(start, m.index), open);
      open = !closing;
    } else {
      // A stray marker: drop it, the text around it stays one piece.
      push(snippet.slice(start, m.index), open);
    }
    start = m.index + m[0].length;
  }
  push(snippet.slice(start), open);
  return parts;
}

// ---- words and numbers ------------------------------------------------------------------

/** The translation calls used here; a JupyterLab TranslationBundle is one. */
export interface ITrans {
  __(msgid: string, ...args: unknown[]): string;
  _n(msgid: string, msgidPlural: string, n: number, ...args: unknown[]): string;
}

const fill = (msg: string, args: unknown[]) =>
  msg.replace(/%(\d+)/g, (whole, i: string) => (args[Number(i) - 1] !== undefined ? String(args[Number(i) - 1]) : whole));

/** English, for tests and for use without a translator. */
export const englishTrans: ITrans = {
  __: (msgid, ...args) => fill(msgid, args),
  _n: (one, many, n, ...args) => fill(n === 1 ? one : many, [n, ...args])
};

/** 950 → "950", 1234 → "1.2k", 1_234_567 → "1.2M", 12_345_678 → "12M", 3e9 → "3B". */
export function compactNumber(n: number): string {
  if (!Number.isFinite(n) || n < 0) {
    return '0';
  }
  const whole = Math.round(n);
  if (whole < 1000) {
    return String(whole);
  }
  const units: Array<[number, string]> = [
    [1e3, 'k'],
    [1e6, 'M'],
    [1e9, 'B'],
    [1e12, 'T']
  ];
  let out = '';
  for (const [size, suffix] of units) {
    const v = whole / size;
    // One decimal below 10 (1.2M), none from 10 on (12M); 999 960 is "1M", not "1000k".
    const text = v < 9.95 ? v.toFixed(1).replace(/\.0$/, '') : String(Math.round(v));
    out = text + suffix;
    if (Number(text) < 1000) {
      break;
    }
  }
  return out;
}

/** "1.2M tokens", "1 token", "no tokens". */
export function formatTokens(total: number | null | undefined, trans: ITrans = englishTrans): string {
  const n = typeof total === 'number' && Number.isFinite(total) ? Math.max(0, Math.round(total)) : 0;
  if (n === 0) {
    return trans.__('no tokens');
  }
  // _n picks the plural form by n; the number shown is the compact one.
  return trans._n('%2 token', '%2 tokens', n, compactNumber(n));
}

/** Milliseconds since the epoch, or null for a missing or unreadable time. */
export function parseTime(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value * 1000 : null;
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A calendar date in local time, "2026-03-02". */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * How long ago, the way a list of recent things says it: "just now", "5 min ago", "3 h ago",
 * "yesterday", "4 days ago", and a date from a week on. A time a little in the future (another
 * machine's clock) is "just now". "" for no time.
 */
export function formatRelative(
  value: string | number | null | undefined,
  now: number = Date.now(),
  trans: ITrans = englishTrans
): string {
  const t = parseTime(value);
  if (t === null) {
    return '';
  }
  const seconds = (now - t) / 1000;
  if (seconds < 45) {
    return seconds < -300 ? formatDate(t) : trans.__('just now');
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return trans._n('%1 min ago', '%1 min ago', Math.max(1, minutes));
  }
  const hours = Math.round(seconds / 3600);
  if (hours < 24) {
    return trans._n('%1 h ago', '%1 h ago', hours);
  }
  const days = Math.round(seconds / 86400);
  if (days <= 1) {
    return trans.__('yesterday');
  }
  if (days < 7) {
    return trans._n('%1 day ago', '%1 days ago', days);
  }
  return formatDate(t);
}

/** A full local time for tooltips, "2026-03-02 09:14". */
export function formatTimestamp(value: string | number | null | undefined): string {
  const t = parseTime(value);
  if (t === null) {
    return '';
  }
  const d = new Date(t);
  return `${formatDate(t)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** One line, white space collapsed, cut at `max` characters with an ellipsis. */
export function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) {
    return flat;
  }
  return flat.slice(0, Math.max(1, max - 1)).trimEnd() + '…';
}

/** What a result is called: its title, else its first prompt, else its id. */
export function sessionTitle(session: Pick<ISession, 'title' | 'first_prompt' | 'id'>, max = 120): string {
  for (const candidate of [session.title, session.first_prompt]) {
    if (typeof candidate === 'string') {
      const line = oneLine(candidate, max);
      if (line) {
        return line;
      }
    }
  }
  return session.id;
}

/**
 * Where a session ran, as the file browser would name it: relative to the server root when it
 * is inside it ("proj/sub/", "/" for the root), else the absolute path; "" when unknown.
 */
export function sessionFolder(session: Pick<ISession, 'path' | 'cwd'>): string {
  if (typeof session.path === 'string') {
    const p = session.path.replace(/^\/+|\/+$/g, '');
    return p ? `${p}/` : '/';
  }
  return session.cwd ?? '';
}

/**
 * Whether the Resume button works, and if not why (for its tooltip). A session whose
 * transcript is gone can still be started afresh in its folder, so it stays enabled unless
 * the server says it cannot be resumed for another reason.
 */
export function resumeState(
  session: Pick<ISession, 'resumable' | 'resume_reason' | 'gone' | 'cwd' | 'path' | 'is_subagent'>,
  trans: ITrans = englishTrans
): { enabled: boolean; reason: string } {
  if (session.resumable) {
    return { enabled: true, reason: session.resume_reason ?? '' };
  }
  if (session.gone && !session.is_subagent && (session.cwd || session.path !== null)) {
    return {
      enabled: true,
      reason: trans.__('The transcript was deleted; a fresh session can be started in %1', sessionFolder(session))
    };
  }
  return { enabled: false, reason: session.resume_reason || trans.__('This session cannot be resumed.') };
}
