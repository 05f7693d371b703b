#!/usr/bin/env node
// Runs `prisma generate` offline. Prisma 7's CLI looks for its schema engine binary on every
// command and tries to download it when missing; generate never uses it, so any executable will do.
// `--quiet` prints nothing unless generation fails (`npm run demo` wants a short screen).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
env.CHECKPOINT_DISABLE = '1';
const quiet = process.argv.includes('--quiet');
const args = process.argv.slice(2).filter((a) => a !== '--quiet');
const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, 'generate', ...args], { stdio: quiet ? 'pipe' : 'inherit', env, encoding: 'utf8' });
if (quiet && result.status !== 0) process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
process.exit(result.status ?? 1);
