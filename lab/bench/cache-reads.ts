/**
 * `node dist/lab/bench/cache-reads.js [--seconds 2] [--daemon FILE] [--tmp DIR]`
 *
 * Reads and stats of unchanged files (issue 10, kernel caches), with both client patterns the
 * issue's yardstick uses: "sync" = blocking fs calls one after the other (Perl, shell tools), "async"
 * = Node's fs/promises, every call through the libuv thread pool; one operation in flight either
 * way. Starts an own local-mode daemon (as `npm run bench` does) and prints ops/s per figure.
 */
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { startLocalDaemon } from './target';

interface Figure {
  label: string;
  sync: () => void;
  async: () => Promise<unknown>;
}

function rateSync(seconds: number, op: () => void): number {
  for (let i = 0; i < 200; i++) op();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    op();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function rateAsync(seconds: number, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await op();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    await op();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seconds = Number(opt('--seconds') ?? '2');
  const daemon = path.resolve(opt('--daemon') ?? path.join(__dirname, '../../src/main.js'));
  const target = await startLocalDaemon(daemon, 'node1', opt('--tmp') ?? os.tmpdir());
  try {
    const dir = path.join(target.mount, `cache-reads-${process.pid}`);
    fs.mkdirSync(dir);
    const file = path.join(dir, 'read-4k');
    fs.writeFileSync(file, Buffer.alloc(4096, 0x61));
    const missing = path.join(dir, 'no-such-name');
    const figures: Figure[] = [
      { label: 'stat, missing name', sync: () => fs.statSync(missing, { throwIfNoEntry: false }), async: () => fsp.stat(missing).catch(() => undefined) },
      { label: 'stat, existing unchanged file', sync: () => fs.statSync(file), async: () => fsp.stat(file) },
      { label: 're-read 4 KiB unchanged file', sync: () => fs.readFileSync(file), async: () => fsp.readFile(file) },
    ];
    process.stdout.write(`${target.description}\nload average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n\nfigure                              sync /s    async /s\n`);
    for (const f of figures) {
      const s = rateSync(seconds, f.sync);
      const a = await rateAsync(seconds, f.async);
      process.stdout.write(`${f.label.padEnd(32)} ${Math.round(s).toLocaleString('en-US').padStart(10)}  ${Math.round(a).toLocaleString('en-US').padStart(10)}\n`);
    }
    process.stdout.write(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
  } finally {
    await target.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`cache-reads: ${err.message}\n`);
  process.exit(1);
});
