// One process, one cluster, the partition scenario (used by two-clusters.test.ts, which runs two of
// these at the same time): three nodes, node3 cut off answers EACCES while node1 writes, heal,
// the same bytes on all three, stop. Prints one JSON line with what it saw; exits 1 on failure.
import { startCluster, type Cluster } from '../../lab/cluster';
import { waitUntil } from '../../lab/wait';

async function scenario(): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  let c: Cluster | undefined;
  try {
    c = await startCluster({ nodes: 3, space: 'e2e-parallel', image: process.argv[2] || undefined });
    const started = Date.now() - t0;
    const [n1, n3] = [c.node('node1'), c.node('node3')];
    await c.partition(['node1', 'node2'], ['node3']);
    await n3.waitQuorate(false, { daemon: true });
    await c.waitQuorate(['node1', 'node2'], { members: 2 }); // the majority settled on its new membership
    const cutOff = await n3.writeFile('/etc/pve/parallel.cfg', 'node3\n').then(() => 'written', (e: { code?: string }) => e.code ?? String(e));
    await n1.writeFile('/etc/pve/parallel.cfg', `written on node1 of ${c.name}\n`);
    await c.heal();
    await c.waitHealthy();
    const { value } = await waitUntil(
      'parallel.cfg on every node',
      () => Promise.all(c!.nodes.map((n) => n.readFile('/etc/pve/parallel.cfg').then((b) => b.toString(), () => null))),
      (all) => all.every((x) => x === `written on node1 of ${c!.name}\n`),
      { timeoutMs: 60_000 },
    );
    return { ok: cutOff === 'EACCES', name: c.name, subnet: c.subnet, network: c.network, cutOff, contents: value, startedMs: started, totalMs: Date.now() - t0 };
  } finally {
    await c?.stop();
  }
}

scenario().then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(r.ok ? 0 : 1);
  },
  (e: unknown) => {
    process.stdout.write(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n');
    process.exit(1);
  },
);
