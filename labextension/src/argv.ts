/**
 * Splitting a command line typed in a dialog into the argv list the API takes.
 *
 * The server never runs a shell on a command pane's argv (it is exec'd as is), so the words
 * must be split here, the way a POSIX shell would split them for quoting purposes: spaces
 * separate words, '...' is literal, "..." allows \" \\ \$ \` escapes, and a backslash outside
 * quotes escapes the next character. No expansion of any kind ($VAR, globs, ~) happens: a
 * person who wants that writes `sh -c '...'`.
 */

export class CommandLineError extends Error {}

export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      i += 1;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) {
        throw new CommandLineError('unterminated single quote');
      }
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      let closed = false;
      while (i < line.length) {
        const d = line[i];
        if (d === '"') {
          closed = true;
          i += 1;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i += 1;
        }
      }
      if (!closed) {
        throw new CommandLineError('unterminated double quote');
      }
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) {
        throw new CommandLineError('a backslash at the end escapes nothing');
      }
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) {
    words.push(word);
  }
  return words;
}
