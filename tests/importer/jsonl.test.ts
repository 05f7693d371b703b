import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linesOf, readJsonl, readJsonlRuns, type JsonlPosition } from '../../src/importer/jsonl.js';
import { createRandom } from '../../src/testing/prng.js';

/** A file server like a bulk operation's storage: Range (206) unless told to ignore it, drops mid-body on request, 403 when expired. */
function fileServer(body: Buffer) {
  const state = { honourRange: true, dropAfterBytes: null as number | null, expired: false, requests: [] as Array<string | undefined> };
  const server = http.createServer((req, res) => {
    state.requests.push(req.headers.range);
    if (state.expired) { res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>'); return; }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && state.honourRange) start = Number(m[1]);
    if (start >= body.length && m && state.honourRange) { res.writeHead(416).end(); return; }
    const slice = body.subarray(start);
    res.writeHead(m && state.honourRange ? 206 : 200, { 'content-type': 'application/jsonl', 'content-length': slice.length });
    if (state.dropAfterBytes !== null) {
      const cut = state.dropAfterBytes;
      state.dropAfterBytes = null;
      res.write(slice.subarray(0, cut), () => res.destroy());
      return;
    }
    res.end(slice);
  });
  return { server, state };
}

// Multi-byte characters so line boundaries and byte offsets differ from string offsets.
const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: `gid://shopify/Order/${i + 1}`, note: i % 7 === 0 ? 'ünïcødé – 🚚' : 'plain', n: i }));
const body = Buffer.from(lines.join('\n') + '\n', 'utf8');

describe('readJsonl', () => {
  const { server, state } = fileServer(body);
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.jsonl`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const reset = () => Object.assign(state, { honourRange: true, dropAfterBytes: null, expired: false, requests: [] });
  const noSleep = async () => {};

  it('yields every line with exact byte positions', async () => {
    reset();
    const got: string[] = [];
    let last: JsonlPosition = { line: 0, byte: 0 };
    for await (const line of readJsonl(url)) { got.push(line.text); last = line.end; }
    expect(got).toEqual(lines);
    expect(last).toEqual({ line: 500, byte: body.length });
  });

  it('hands out runs of whole lines that join up, each with its positions, split again into the same lines', async () => {
    for (const honourRange of [true, false]) {
      reset();
      state.honourRange = honourRange;
      // Resumed after a dropped connection too: the runs go on from the last one handed out.
      state.dropAfterBytes = 20_000;
      const from = { line: 17, byte: Buffer.byteLength(lines.slice(0, 17).join('\n') + '\n') };
      let at = from;
      const got: string[] = [];
      let runs = 0;
      for await (const run of readJsonlRuns(url, { from, sleep: noSleep })) {
        expect(run.from).toEqual(at);
        expect(run.to.byte - run.from.byte).toBe(run.bytes.length);
        expect(run.bytes[run.bytes.length - 1]).toBe(0x0a);
        for (const line of linesOf(run)) got.push(line.text);
        at = run.to;
        runs++;
      }
      expect(runs).toBeGreaterThan(1);
      expect(got).toEqual(lines.slice(17));
      expect(at).toEqual({ line: 500, byte: body.length });
    }
  });

  it('resumes from a position with a Range request (206)', async () => {
    reset();
    const from = { line: 123, byte: Buffer.byteLength(lines.slice(0, 123).join('\n') + '\n') };
    const got: string[] = [];
    for await (const line of readJsonl(url, { from })) got.push(line.text);
    expect(got).toEqual(lines.slice(123));
    expect(state.requests).toEqual([`bytes=${from.byte}-`]);
  });

  it('skips the lines already read when the server ignores Range (200)', async () => {
    reset();
    state.honourRange = false;
    const from = { line: 400, byte: Buffer.byteLength(lines.slice(0, 400).join('\n') + '\n') };
    const got: string[] = [];
    for await (const line of readJsonl(url, { from })) got.push(line.text);
    expect(got).toEqual(lines.slice(400));
  });

  it('continues after a connection dropped mid-line, with neither loss nor duplicate', async () => {
    for (const honourRange of [true, false]) {
      reset();
      state.honourRange = honourRange;
      state.dropAfterBytes = Math.floor(body.length / 2) + 3;
      const got: string[] = [];
      for await (const line of readJsonl(url, { sleep: noSleep })) got.push(line.text);
      expect(got).toEqual(lines);
      expect(state.requests.length).toBe(2);
    }
  });

  it('says the link expired (403) with a typed error', async () => {
    reset();
    state.expired = true;
    await expect(async () => { for await (const _ of readJsonl(url)) { /* nothing */ } }).rejects.toMatchObject({ code: 'BULK_FILE_EXPIRED' });
  });

  it('ends cleanly when resumed exactly at the end (416)', async () => {
    reset();
    const got: string[] = [];
    for await (const line of readJsonl(url, { from: { line: 500, byte: body.length } })) got.push(line.text);
    expect(got).toEqual([]);
  });
});

describe('readJsonlRuns over chunks cut anywhere', () => {
  it('hands out every line exactly once, whatever the chunks, lines longer than a chunk included', async () => {
    const seed = Number(process.env.JSONL_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`jsonl chunks: JSONL_SEED=${seed}`);
    const rand = createRandom(seed);
    const pick = (n: number) => Math.floor(rand() * n);
    // Lines of up to ~560 KB (a long one spans several of the reader's chunks), multi-byte
    // characters split anywhere, and a last line without a newline.
    const text = Array.from({ length: 120 }, (_, i) => JSON.stringify({ i, note: 'ü🚚x'.repeat(pick(4) === 0 ? pick(80_000) : pick(200)) }));
    const file = Buffer.from(text.join('\n'), 'utf8');
    const server = http.createServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jsonl' });
      for (let at = 0; at < file.length;) {
        const size = 1 + pick(pick(3) === 0 ? 200_000 : 3_000);
        const piece = file.subarray(at, at + size);
        at += piece.length;
        if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
        if (pick(4) === 0) await new Promise((r) => setTimeout(r, 1));
      }
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.jsonl`;
      const got: string[] = [];
      const kept: Uint8Array[] = [];
      let at: JsonlPosition = { line: 0, byte: 0 };
      for await (const run of readJsonlRuns(url)) {
        expect(run.from, `seed ${seed}`).toEqual(at);
        expect(run.to.byte - run.from.byte).toBe(run.bytes.length);
        // A run's bytes are its own (they may be handed to another thread): kept as they are, they
        // still hold the file's bytes after the runs that follow.
        kept.push(run.bytes);
        for (const line of linesOf(run)) got.push(line.text);
        at = run.to;
      }
      expect(got, `seed ${seed}`).toEqual(text.filter((t) => t.length > 0));
      expect(Buffer.concat(kept).equals(file), `seed ${seed}`).toBe(true);
      expect(at).toEqual({ line: text.length, byte: file.length });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
