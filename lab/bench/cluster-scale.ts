/**
 * The largest cluster this machine keeps quorate and converging under a write load (docs/lab.md):
 * `node dist/lab/bench/cluster-scale.js [--sizes 3,5,7] [--seconds 30]`. For each size a fresh
 * cluster of the lab library is started; every node writes 1 KiB files into its own directory as fast
 * as it can for the given time while the harness samples each node's corosync and daemon quorum once
 * a second; then the trees must become identical (memdb version and a digest of /etc/pve) within
 * 120 s. A size passes when no sample saw a node without quorum, no write failed and the trees
 * converged. The cluster is removed after each size.
 */
import { startCluster, type Cluster } from '../cluster';
import { sleep, waitUntil } from '../wait';

// Writes 1 KiB files dir/f<i> until the deadline; prints "<ok> <failed> <firstError>".
const WRITER = String.raw`
const fs = require('fs');
const [dir, ms] = [process.argv[1], Number(process.argv[2])];
fs.mkdirSync(dir, { recursive: true });
const body = Buffer.alloc(1024, 120);
const end = Date.now() + ms;
let ok = 0, failed = 0, first = '';
for (let i = 0; Date.now() < end; i++) {
  try { fs.writeFileSync(dir + '/f' + (i % 200), body); ok++; } catch (e) { failed++; first = first || e.code; }
}
process.stdout.write(ok + ' ' + failed + ' ' + (first || '-'));
`;

const DIGEST = "cd /etc/pve && find . -mindepth 1 ! -path './.*' -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum | sha256sum";

interface SizeResult {
  nodes: number;
  startS: number;
  writesPerS: number;
  failedWrites: number;
  quorumLossSamples: number;
  samples: number;
  convergeS: number | null;
  pass: boolean;
}

async function version(c: Cluster, name: string): Promise<number | null> {
  const r = await c.node(name).exec(['pmxcfs-ts', 'status', '--json', '--log=0'], { timeoutMs: 20_000 });
  try {
    return (JSON.parse(r.stdout) as { status: { version: number } }).status.version;
  } catch {
    return null;
  }
}

async function measure(nodes: number, seconds: number): Promise<SizeResult> {
  const t0 = Date.now();
  const c = await startCluster({ nodes, space: 'bench-scale', timeoutMs: 300_000 });
  const startS = (Date.now() - t0) / 1000;
  try {
    let samples = 0;
    let lost = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const st = await c.status();
        samples++;
        if (st.some((s) => s.quorum?.quorate !== true || s.daemonQuorate !== true)) lost++;
        await sleep(1000);
      }
    })();
    const runs = await Promise.all(
      c.nodes.map((n) => n.exec(['node', '-e', WRITER, `/etc/pve/scale/${n.name}`, String(seconds * 1000)], { timeoutMs: seconds * 1000 + 120_000 })),
    );
    sampling = false;
    await sampler;
    let ok = 0;
    let failed = 0;
    for (const r of runs) {
      const [a, b] = r.stdout.trim().split(' ');
      ok += Number(a) || 0;
      failed += Number(b) || 0;
    }
    const tc = Date.now();
    const converged = await waitUntil(
      'identical trees',
      () => Promise.all(c.nodes.map(async (n) => `${await version(c, n.name)} ${(await n.sh(DIGEST, { timeoutMs: 60_000 })).stdout}`)),
      (all) => !all[0]!.startsWith('null') && all.every((x) => x === all[0]),
      { timeoutMs: 120_000, intervalMs: 1000 },
    ).then(
      () => (Date.now() - tc) / 1000,
      () => null,
    );
    const res: SizeResult = {
      nodes,
      startS,
      writesPerS: ok / seconds,
      failedWrites: failed,
      quorumLossSamples: lost,
      samples,
      convergeS: converged,
      pass: lost === 0 && failed === 0 && converged !== null,
    };
    return res;
  } finally {
    await c.stop();
  }
}

async function main(): Promise<void> {
  const arg = (name: string, dflt: string): string => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] ?? dflt : dflt;
  };
  const sizes = arg('--sizes', '3,5,7').split(',').map(Number);
  const seconds = Number(arg('--seconds', '30'));
  for (const n of sizes) {
    const r = await measure(n, seconds);
    console.log(JSON.stringify(r));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
