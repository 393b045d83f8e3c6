import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { splitCommandLine } from '../src/argv';

describe('splitCommandLine', () => {
  it('splits on whitespace', () => {
    assert.deepEqual(splitCommandLine('  python -m   http.server 8000 '), ['python', '-m', 'http.server', '8000']);
    assert.deepEqual(splitCommandLine(''), []);
  });

  it('keeps quoted words whole, as sh does', () => {
    assert.deepEqual(splitCommandLine(`sh -c 'echo "$HOME"; ls'`), ['sh', '-c', 'echo "$HOME"; ls']);
    assert.deepEqual(splitCommandLine('echo "a \\"b\\" c" d\\ e'), ['echo', 'a "b" c', 'd e']);
    assert.deepEqual(splitCommandLine(`a''b ""`), ['ab', '']);
  });

  it('expands nothing', () => {
    assert.deepEqual(splitCommandLine('ls ~ $HOME *.py'), ['ls', '~', '$HOME', '*.py']);
  });

  it('refuses unterminated quotes and a trailing backslash', () => {
    assert.throws(() => splitCommandLine(`echo 'oops`), /single quote/);
    assert.throws(() => splitCommandLine('echo "oops'), /double quote/);
    assert.throws(() => splitCommandLine('echo \\'), /backslash/);
  });
});
