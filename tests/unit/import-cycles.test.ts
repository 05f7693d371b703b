/**
 * No module of the SDK imports itself back through others (type-only imports count too): a cycle
 * ties modules' load order together and hides which part depends on which.
 */
import madge from 'madge';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('import graph of src/', () => {
  it('has no cycles', async () => {
    const graph = await madge(path.join(root, 'src'), {
      fileExtensions: ['ts'],
      tsConfig: path.join(root, 'tsconfig.json'),
      excludeRegExp: [/generated[\\/]/],
      detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
    });
    expect(graph.circular()).toEqual([]);
    // The graph really was read (a misconfigured run would find no modules, hence no cycles).
    expect(Object.keys(graph.obj()).length).toBeGreaterThan(100);
    expect(graph.obj()['importer/run.ts']).toContain('importer/run-frame.ts');
  }, 60_000);
});
