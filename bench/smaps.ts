/**
 * Where a process's resident memory sits, from /proc/<pid>/smaps (Linux): glibc's main malloc arena
 * (`[heap]`), the arenas of other threads (anonymous mappings that start on a 64 MiB boundary, as
 * glibc places them), the other anonymous mappings (V8's heap pages of every isolate, large buffers
 * mapped on their own, thread stacks), and mapped files (node's binary, shared libraries).
 * Used by bench/importer.ts (`BENCH_SMAPS=1`); null where /proc is not readable.
 */
import { readFileSync } from 'node:fs';

const MB = 2 ** 20;
/** glibc's HEAP_MAX_SIZE on 64-bit: a thread arena's heaps are aligned to it. */
const ARENA_ALIGN = 64 * MB;

export interface MemoryBreakdown {
  rssMb: number;
  mainArenaMb: number;
  threadArenasMb: number;
  /** Resident MB of each thread arena's heap, largest first (those of 1 MB or more). */
  threadArenaHeapsMb: number[];
  otherAnonymousMb: number;
  filesMb: number;
}

export function memoryBreakdown(pid: number | 'self' = 'self'): MemoryBreakdown | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  let mainArena = 0;
  let threadArenas = 0;
  let otherAnonymous = 0;
  let files = 0;
  const heaps: number[] = [];
  let kind: 'main' | 'arena' | 'anon' | 'file' = 'anon';
  for (const line of text.split('\n')) {
    const mapping = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (mapping) {
      const start = parseInt(mapping[1], 16);
      const size = parseInt(mapping[2], 16) - start;
      const name = mapping[5];
      if (name === '[heap]') kind = 'main';
      else if (mapping[4] !== '0' || name.startsWith('/')) kind = 'file';
      else if (start % ARENA_ALIGN === 0 && size <= ARENA_ALIGN && mapping[3].startsWith('rw') && name === '') kind = 'arena';
      else kind = 'anon';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss) continue;
    const kb = Number(rss[1]);
    if (kind === 'main') mainArena += kb;
    else if (kind === 'arena') {
      threadArenas += kb;
      heaps.push(kb);
    } else if (kind === 'file') files += kb;
    else otherAnonymous += kb;
  }
  const mb = (kb: number) => Math.round(kb / 1024);
  return {
    rssMb: mb(mainArena + threadArenas + otherAnonymous + files),
    mainArenaMb: mb(mainArena),
    threadArenasMb: mb(threadArenas),
    threadArenaHeapsMb: heaps.map(mb).filter((m) => m >= 1).sort((a, b) => b - a),
    otherAnonymousMb: mb(otherAnonymous),
    filesMb: mb(files),
  };
}

export function describeBreakdown(b: MemoryBreakdown): string {
  return `${b.rssMb} MB = malloc main arena ${b.mainArenaMb} + other threads' arenas ${b.threadArenasMb} (${b.threadArenaHeapsMb.join(', ')}) + other anonymous (V8 heaps, large buffers, stacks) ${b.otherAnonymousMb} + files ${b.filesMb}`;
}
