/**
 * docs/getting-started.md, "3. Add the tables and your Prisma client", run as written in an empty
 * app whose node_modules/shopify-ingest is this repository: the shell lines, the two files, then
 * `npx prisma generate`. The client must land where the samples import it from
 * (`src/generated/prisma/client.ts`, i.e. `./generated/prisma/client.js` from `src/`) and hold every
 * model of the shipped schema.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let app: string | undefined;

afterAll(async () => {
  if (app) await rm(app, { recursive: true, force: true });
});

function section(doc: string, heading: string): string {
  const start = doc.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + heading.length);
  return doc.slice(start, end < 0 ? undefined : end);
}

function blocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]!);
}

function sh(script: string, cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-e', '-c', script], {
      cwd,
      // Offline: Prisma's CLI would download a schema engine it does not use for generate.
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', npm_config_yes: 'false' },
      timeout: 120_000,
    }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: `${stdout}\n${stderr}` }));
  });
}

const models = (schema: string) => [...schema.matchAll(/^model (\w+) \{/gm)].map((m) => m[1]).sort();

describe('docs/getting-started.md, step 3, as written', () => {
  it('the shell lines, app.prisma and prisma.config.ts give a generated client with every Shopify* model', async () => {
    const doc = await readFile(path.join(root, 'docs/getting-started.md'), 'utf8');
    const step = section(doc, '## 3. Add the tables and your Prisma client');
    const [copy, generate] = blocks(step, 'bash');
    const [appSchema] = blocks(step, 'prisma');
    const [config] = blocks(step, 'ts');
    expect([copy, generate, appSchema, config].every(Boolean), 'two bash blocks, a prisma block and a ts block').toBe(true);

    // An empty ESM app with the package installed (this repository) and Prisma's CLI.
    app = await mkdtemp(path.join(tmpdir(), 'si-getting-started-'));
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await mkdir(path.join(app, 'node_modules/.bin'), { recursive: true });
    await symlink(root, path.join(app, 'node_modules/shopify-ingest'));
    for (const name of ['prisma', '@prisma']) await symlink(path.join(root, 'node_modules', name), path.join(app, 'node_modules', name));
    await symlink(path.join(root, 'node_modules/prisma/build/index.js'), path.join(app, 'node_modules/.bin/prisma'));

    const copied = await sh(copy!, app);
    expect(copied.code, copied.output).toBe(0);
    const shopify = await readFile(path.join(app, 'prisma/shopify.prisma'), 'utf8');
    expect(shopify).not.toMatch(/^(generator|datasource) /m);
    expect(models(shopify)).toEqual(models(await readFile(path.join(root, 'prisma/schema.prisma'), 'utf8')));
    await writeFile(path.join(app, 'prisma/app.prisma'), appSchema!);
    await writeFile(path.join(app, 'prisma.config.ts'), config!);

    const generated = await sh(generate!, app);
    expect(generated.code, generated.output).toBe(0);
    const client = path.join(app, 'src/generated/prisma/client.ts');
    expect(existsSync(client), `no ${client}:\n${generated.output}`).toBe(true);
    const modelsDir = path.join(app, 'src/generated/prisma/models');
    for (const model of ['ShopifyTenant', 'ShopifyOrder', 'ShopifyOrderLineItem', 'ShopifyCustomer']) {
      expect(existsSync(path.join(modelsDir, `${model}.ts`)), model).toBe(true);
    }
  }, 180_000);
});
