// `npm run lab -- dashboard`: a page on 127.0.0.1 that draws the lab live. The server polls every
// node's status (and at once on a docker event of the lab's containers) and pushes each new state
// to the page over server-sent events; the page's buttons partition, heal, fence and start.
import * as fs from 'fs';
import * as http from 'http';
import * as readline from 'readline';
import type { ChaosCluster } from '../chaos/cluster';
import { engine } from '../dockerode-client';
import { LABEL } from '../labels';
import { renderDashboardPage } from './page';
import { DashboardPoller, type DashboardState, type LiveStats } from './state';

export interface DashboardOptions {
  port?: number; // 0: any free port
  intervalMs?: number;
  /** A file a chaos run keeps up to date with its live rates (lab/chaos/live.ts). */
  liveFile?: string;
  /** The lab cluster's name: engine events of its containers trigger a poll at once. */
  clusterName?: string;
  log?: (l: string) => void;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

function readLive(file: string | undefined): LiveStats['chaos'] | undefined {
  if (!file) return undefined;
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as LiveStats['chaos'] & { at: number };
    return Date.now() - v.at < 5_000 ? { opsPerSec: v.opsPerSec, p50Ms: v.p50Ms, p99Ms: v.p99Ms, errorsPerSec: v.errorsPerSec } : undefined;
  } catch {
    return undefined;
  }
}

async function body(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let data = '';
  for await (const chunk of req) {
    data += String(chunk);
    if (data.length > 10_000) throw new Error('request too large');
  }
  return data ? (JSON.parse(data) as Record<string, unknown>) : {};
}

export async function startDashboard(cluster: ChaosCluster, o: DashboardOptions = {}): Promise<Dashboard> {
  const log = o.log ?? (() => undefined);
  const poller = new DashboardPoller(cluster, 4_000, () => readLive(o.liveFile));
  const clients = new Set<http.ServerResponse>();
  let state: DashboardState | null = null;
  let polling = false;
  let again = false;
  let closed = false;

  const pollNow = async (): Promise<void> => {
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    try {
      do {
        again = false;
        state = await poller.poll();
        const msg = `data: ${JSON.stringify(state)}\n\n`;
        for (const c of clients) c.write(msg);
      } while (again && !closed);
    } catch (e) {
      log(`poll failed: ${(e as Error).message}`);
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void pollNow(), o.intervalMs ?? 1_500);

  // Engine events of the cluster's containers (start, die, kill, ...): poll at once. Our own status
  // execs are events too (exec_*), so those are left out.
  let events: (NodeJS.ReadableStream & { destroy?(): void }) | null = null;
  if (o.clusterName) {
    events = await engine().getEvents({ filters: { type: ['container'], label: [`${LABEL.cluster}=${o.clusterName}`] } });
    readline.createInterface({ input: events }).on('line', (l) => {
      try {
        if (!String((JSON.parse(l) as { Action?: string }).Action).startsWith('exec_')) void pollNow();
      } catch {
        // a partial line: ignore
      }
    });
    events.on('error', () => undefined);
  }

  const act = async (action: string, args: Record<string, unknown>): Promise<string> => {
    const node = typeof args.node === 'string' ? args.node : '';
    if ((action === 'fence' || action === 'start') && !cluster.nodes.includes(node)) throw new Error(`unknown node "${node}"`);
    switch (action) {
      case 'partition': {
        const groups = args.groups;
        if (!Array.isArray(groups) || groups.some((g) => !Array.isArray(g) || g.some((n) => typeof n !== 'string' || !cluster.nodes.includes(n))))
          throw new Error('groups must be lists of node names');
        await cluster.partition(groups as string[][]);
        return `partitioned ${(groups as string[][]).map((g) => g.join(',')).join(' | ')}`;
      }
      case 'heal':
        await cluster.heal();
        return 'healed';
      case 'fence':
        await cluster.fence(node);
        return `${node} fenced`;
      case 'start':
        await cluster.start(node);
        return `${node} started`;
      default:
        throw new Error(`unknown action "${action}"`);
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderDashboardPage(cluster.nodes));
    } else if (req.method === 'GET' && url.pathname === '/api/state') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state));
    } else if (req.method === 'GET' && url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      clients.add(res);
      if (state) res.write(`data: ${JSON.stringify(state)}\n\n`);
      req.on('close', () => clients.delete(res));
    } else if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const action = url.pathname.slice('/api/'.length);
      body(req)
        .then((args) => act(action, args))
        .then(
          (msg) => {
            log(msg);
            void pollNow();
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ ok: true, msg }));
          },
          (e: Error) => {
            res.writeHead(400, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ ok: false, error: e.message }));
          },
        );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8413, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  void pollNow();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      closed = true;
      clearInterval(timer);
      events?.destroy?.();
      for (const c of clients) c.end();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
