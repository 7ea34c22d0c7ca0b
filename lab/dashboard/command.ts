// `npm run lab -- dashboard [--port N]` on today's lab.
import { liveFile } from '../chaos/command';
import { LabChaosCluster } from '../chaos/lab-cluster';
import { containerState } from '../docker';
import { LabError } from '../lab';
import { ALL_NODES } from '../topology';
import { startDashboard } from './server';

/** `lab dashboard [--port N]`: serve the live page until interrupted. */
export async function dashboardCommand(argv: readonly string[], log: (l: string) => void): Promise<number> {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : 8413;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LabError('--port needs a port number');
  const nodes: string[] = [];
  for (const n of ALL_NODES) if ((await containerState(n.name)).exists) nodes.push(n.name);
  if (nodes.length === 0) throw new LabError('no lab node exists: `npm run lab -- up` first');
  const d = await startDashboard(new LabChaosCluster(nodes), { port, liveFile: liveFile(), log });
  log(`dashboard on ${d.url} (127.0.0.1 only; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
  return 0;
}
