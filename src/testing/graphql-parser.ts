/**
 * A small GraphQL reader: enough of the language for the queries an ingestion client sends
 * (operations, variables, aliases, arguments of every literal kind, block strings, inline
 * fragments and named fragments). Not a validator: unknown fields resolve to null.
 */

export type GraphqlValue = string | number | boolean | null | GraphqlValue[] | { [k: string]: GraphqlValue } | { $var: string };

export interface FieldNode {
  alias: string;
  name: string;
  args: Record<string, GraphqlValue>;
  selections: FieldNode[];
}

export interface OperationNode {
  kind: 'query' | 'mutation';
  name?: string;
  selections: FieldNode[];
}

export class GraphqlSyntaxError extends Error {}

type Token = { kind: 'punct' | 'name' | 'string' | 'number' | 'spread'; value: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    if (c === '#') { while (i < n && source[i] !== '\n') i++; continue; }
    if (/[\s,\uFEFF]/.test(c)) { i++; continue; }
    if (source.startsWith('...', i)) { tokens.push({ kind: 'spread', value: '...' }); i += 3; continue; }
    if ('{}()[]:=!$@|&'.includes(c)) { tokens.push({ kind: 'punct', value: c }); i++; continue; }
    if (source.startsWith('"""', i)) {
      const end = source.indexOf('"""', i + 3);
      if (end < 0) throw new GraphqlSyntaxError('unterminated block string');
      tokens.push({ kind: 'string', value: source.slice(i + 3, end).replace(/\\"""/g, '"""') });
      i = end + 3;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let out = '';
      while (j < n && source[j] !== '"') {
        if (source[j] === '\\') {
          const e = source[j + 1];
          if (e === 'u') { out += String.fromCharCode(parseInt(source.slice(j + 2, j + 6), 16)); j += 6; continue; }
          out += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[e] ?? e;
          j += 2;
          continue;
        }
        out += source[j++];
      }
      if (j >= n) throw new GraphqlSyntaxError('unterminated string');
      tokens.push({ kind: 'string', value: out });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(source.slice(i, i + 40));
    if (num) { tokens.push({ kind: 'number', value: num[0] }); i += num[0].length; continue; }
    const name = /^[_A-Za-z][_0-9A-Za-z]*/.exec(source.slice(i, i + 200));
    if (name) { tokens.push({ kind: 'name', value: name[0] }); i += name[0].length; continue; }
    throw new GraphqlSyntaxError(`unexpected character "${c}"`);
  }
  return tokens;
}

/**
 * Parses a document and returns the operation to run (the named one, or the only one), with
 * fragment spreads expanded and variables still unresolved (`{ $var }`).
 *
 * @example
 * ```ts
 * parseGraphql('{ shop { name } }').selections[0].name // 'shop'
 * ```
 */
export function parseGraphql(source: string, operationName?: string): OperationNode {
  const tokens = tokenize(source);
  let p = 0;
  const peek = () => tokens[p];
  const next = () => {
    const t = tokens[p++];
    if (!t) throw new GraphqlSyntaxError('unexpected end of document');
    return t;
  };
  const expect = (value: string) => {
    const t = next();
    if (t.value !== value) throw new GraphqlSyntaxError(`expected "${value}", got "${t.value}"`);
  };
  const fragments = new Map<string, FieldNode[]>();
  type Raw = FieldNode | { spread: string } | { inline: Raw[] };

  function value(): GraphqlValue {
    const t = next();
    if (t.kind === 'punct' && t.value === '$') return { $var: next().value };
    if (t.kind === 'string') return t.value;
    if (t.kind === 'number') return Number(t.value);
    if (t.kind === 'name') return t.value === 'true' ? true : t.value === 'false' ? false : t.value === 'null' ? null : t.value;
    if (t.value === '[') {
      const list: GraphqlValue[] = [];
      while (peek()?.value !== ']') list.push(value());
      next();
      return list;
    }
    if (t.value === '{') {
      const obj: Record<string, GraphqlValue> = {};
      while (peek()?.value !== '}') {
        const key = next().value;
        expect(':');
        obj[key] = value();
      }
      next();
      return obj;
    }
    throw new GraphqlSyntaxError(`unexpected "${t.value}" in a value`);
  }

  function skipDirectives(): void {
    while (peek()?.value === '@') {
      next();
      next();
      if (peek()?.value === '(') skipBalanced('(', ')');
    }
  }

  function skipBalanced(open: string, close: string): void {
    let depth = 0;
    do {
      const t = next();
      if (t.value === open) depth++;
      else if (t.value === close) depth--;
    } while (depth > 0);
  }

  function selectionSet(): Raw[] {
    expect('{');
    const out: Raw[] = [];
    while (peek() && peek().value !== '}') {
      if (peek().kind === 'spread') {
        next();
        if (peek().value === 'on') { next(); next(); skipDirectives(); out.push({ inline: selectionSet() }); }
        else if (peek().value === '{' || peek().value === '@') { skipDirectives(); out.push({ inline: selectionSet() }); }
        else { out.push({ spread: next().value }); skipDirectives(); }
        continue;
      }
      let name = next().value;
      let alias = name;
      if (peek()?.value === ':') { next(); name = next().value; }
      const args: Record<string, GraphqlValue> = {};
      if (peek()?.value === '(') {
        next();
        while (peek().value !== ')') {
          const key = next().value;
          expect(':');
          args[key] = value();
        }
        next();
      }
      skipDirectives();
      const field: FieldNode & { raw?: Raw[] } = { alias, name, args, selections: [] };
      if (peek()?.value === '{') field.raw = selectionSet();
      out.push(field);
    }
    expect('}');
    return out;
  }

  const operations: Array<{ kind: 'query' | 'mutation'; name?: string; raw: Raw[] }> = [];
  while (p < tokens.length) {
    const t = peek();
    if (t.value === '{') { operations.push({ kind: 'query', raw: selectionSet() }); continue; }
    if (t.value === 'query' || t.value === 'mutation' || t.value === 'subscription') {
      next();
      let name: string | undefined;
      if (peek()?.kind === 'name') name = next().value;
      if (peek()?.value === '(') skipBalanced('(', ')');
      skipDirectives();
      operations.push({ kind: t.value === 'mutation' ? 'mutation' : 'query', name, raw: selectionSet() });
      continue;
    }
    if (t.value === 'fragment') {
      next();
      const name = next().value;
      expect('on');
      next();
      skipDirectives();
      fragments.set(name, selectionSet() as FieldNode[]);
      continue;
    }
    throw new GraphqlSyntaxError(`unexpected "${t.value}" at top level`);
  }

  function expand(raw: Raw[], depth = 0): FieldNode[] {
    if (depth > 20) throw new GraphqlSyntaxError('fragments nest too deeply');
    const out: FieldNode[] = [];
    for (const r of raw) {
      if ('spread' in r) {
        const frag = fragments.get(r.spread);
        if (!frag) throw new GraphqlSyntaxError(`unknown fragment ${r.spread}`);
        out.push(...expand(frag as Raw[], depth + 1));
      } else if ('inline' in r) out.push(...expand(r.inline, depth + 1));
      else {
        const f = r as FieldNode & { raw?: Raw[] };
        out.push({ alias: f.alias, name: f.name, args: f.args, selections: f.raw ? expand(f.raw, depth + 1) : [] });
      }
    }
    return out;
  }

  const chosen = operationName ? operations.find((o) => o.name === operationName) : operations[0];
  if (!chosen) throw new GraphqlSyntaxError(operationName ? `no operation named ${operationName}` : 'no operation in document');
  return { kind: chosen.kind, name: chosen.name, selections: expand(chosen.raw) };
}

/** Replaces `{ $var }` placeholders with the request's variables. */
export function resolveArgs(args: Record<string, GraphqlValue>, variables: Record<string, unknown>): Record<string, unknown> {
  const walk = (v: GraphqlValue): unknown => {
    if (v && typeof v === 'object' && !Array.isArray(v) && '$var' in v && Object.keys(v).length === 1) return variables[(v as { $var: string }).$var] ?? null;
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x as GraphqlValue)]));
    return v;
  };
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, walk(v)]));
}
