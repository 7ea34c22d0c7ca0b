// A pmxcfs cluster in a test, through the package's public import path: three nodes, one cut off
// turns read-only (EACCES), the majority keeps writing, and after the heal all three hold the same
// bytes. Run it with `npm run example` (docs/lab.md, "Using the lab in your own tests").
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, waitUntil, type Cluster } from 'pmxcfs-ts/lab';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, space: 'example', log: (l) => console.log(l) });
});

afterAll(async () => {
  await cluster?.stop(); // removes its containers, volumes and network
});

it('a node cut off from the others answers EACCES, and converges after the heal', async () => {
  const [node1, node3] = [cluster.node('node1'), cluster.node('node3')];

  await cluster.partition(['node1', 'node2'], ['node3']);
  await node3.waitQuorate(false, { daemon: true });
  await cluster.waitQuorate(['node1', 'node2'], { members: 2 }); // the majority settled on its new membership
  await expect(node3.writeFile('/etc/pve/example.cfg', 'from node3\n')).rejects.toMatchObject({ code: 'EACCES' });
  await node1.writeFile('/etc/pve/example.cfg', 'from node1\n'); // node1 + node2 are quorate

  await cluster.heal();
  await cluster.waitHealthy();
  const { value } = await waitUntil(
    'example.cfg on node3',
    () => node3.readFile('/etc/pve/example.cfg').catch(() => null),
    (b) => b !== null,
    { timeoutMs: 30_000 },
  );
  expect(value!.toString()).toBe('from node1\n');
  await node3.writeFile('/etc/pve/example.cfg', 'node3 writes again\n');
});
