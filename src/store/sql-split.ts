/**
 * Splits a SQL script into single statements.
 *
 * Why: drivers run a parameterless script with several statements only over PostgreSQL's
 * simple-query protocol. PGlite's Prisma adapter always uses the extended protocol
 * ("cannot insert multiple commands into a prepared statement"), so migrations are sent one
 * statement at a time. The splitter understands what can hide a `;`: quoted strings
 * ('...', E'...'), quoted identifiers ("..."), dollar-quoted bodies ($$...$$, $tag$...$tag$),
 * line comments (--) and nested block comments.
 *
 * @example
 * ```ts
 * splitSqlStatements("CREATE TABLE a (x int);\n-- note; still a comment\nINSERT INTO a VALUES (1);")
 * // ['CREATE TABLE a (x int)', 'INSERT INTO a VALUES (1)']
 * ```
 */
export function splitSqlStatements(script: string): string[] {
  const statements: string[] = [];
  let current = '';
  let hasCode = false;
  let i = 0;
  const n = script.length;
  const push = () => {
    const text = current.trim();
    if (hasCode && text) statements.push(text);
    current = '';
    hasCode = false;
  };
  while (i < n) {
    const c = script[i];
    const next = script[i + 1];
    if (c === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      const stop = end === -1 ? n : end + 1;
      current += script.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (script[j] === '/' && script[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (script[j] === '*' && script[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      current += script.slice(i, j);
      i = j;
      continue;
    }
    if (c === "'" || c === '"') {
      // A doubled quote inside the literal escapes it; E'' strings may also use a backslash.
      const escapeBackslash = c === "'" && (script[i - 1] === 'E' || script[i - 1] === 'e');
      let j = i + 1;
      while (j < n) {
        if (escapeBackslash && script[j] === '\\') { j += 2; continue; }
        if (script[j] === c) {
          if (script[j + 1] === c) { j += 2; continue; }
          j++;
          break;
        }
        j++;
      }
      current += script.slice(i, j);
      hasCode = true;
      i = j;
      continue;
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i, i + 64));
      if (tag) {
        const end = script.indexOf(tag[0], i + tag[0].length);
        const stop = end === -1 ? n : end + tag[0].length;
        current += script.slice(i, stop);
        hasCode = true;
        i = stop;
        continue;
      }
    }
    if (c === ';') {
      push();
      i++;
      continue;
    }
    current += c;
    if (!/\s/.test(c)) hasCode = true;
    i++;
  }
  push();
  return statements;
}
