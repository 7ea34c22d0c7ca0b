// `npm run lab -- dashboard [--port N]` on the CLI's cluster (--cluster / LAB_CLUSTER).
import { liveFile } from '../chaos/command';
import { LabChaosCluster } from '../chaos/lab-cluster';
import { labCluster, LabError } from '../lab';
import { startDashboard } from './server';

/** `lab dashboard [--port N]`: serve the live page until interrupted. */
export async function dashboardCommand(argv: readonly string[], log: (l: string) => void): Promise<number> {
  const i = argv.indexOf('--port');
  const port = i >= 0 ? Number(argv[i + 1]) : 8413;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LabError('--port needs a port number');
  const cluster = await labCluster();
  const d = await startDashboard(new LabChaosCluster(cluster), { port, liveFile: liveFile(), clusterName: cluster.name, log });
  log(`dashboard on ${d.url} (127.0.0.1 only; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await d.close();
  return 0;
}
