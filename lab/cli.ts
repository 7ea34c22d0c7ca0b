// The lab CLI: `npm run lab -- <command>` (see docs/lab.md), a thin shell over lab/cluster.ts.
import { listClusters, removeCluster } from './cluster';
import { containerLogs, engine, engineAnswers } from './dockerode-client';
import { addNode, defaultClusterName, describe, labCluster, labDown, labStatus, labUp, LabError } from './lab';
import { prepareHost } from './engine';
import { statusTable } from './node-status';
import { labPaths } from './topology';
import { chaosCommand, chaosReportCommand } from './chaos/command';
import { dashboardCommand } from './dashboard/command';

const USAGE = `usage: npm run lab -- [--cluster NAME] <command>     (default cluster: $LAB_CLUSTER or "lab")
  up [--nodes N] [--local] [--recreate] [--corosync-rt | --no-corosync-rt]
                              prepare docker, build the node image if this checkout changed, start
                              node1..nodeN (default 3) and wait for quorum and /etc/pve; a running
                              cluster with the same image and shape is reused. --corosync-rt: corosync
                              at SCHED_RR 99 as on a host (default: as a container gets it, SCHED_OTHER)
  prepare                     only prepare the host: apt packages, dockerd, the offline base image
  down [--all]                remove the cluster (--all: every lab cluster on this engine)
  list                        every lab cluster on this engine (name, space, owner, nodes)
  status                      per node: container, corosync quorum/members, daemon, /etc/pve
  partition <group...>        split the network into groups: \`partition node1,node2 node3\`; nodes
                              named nowhere form one more group (\`partition node3\`: node3 alone)
  heal                        undo every partition
  fence <node>                SIGKILL the node's container, as a fencing device would
  start <node> [--no-wait]    start a stopped/fenced node and wait until it is back
  stop <node>                 clean shutdown of a node (SIGTERM)
  kill-daemon <node>          kill -9 the node's pmxcfs-ts (not restarted)
  restart-corosync <node>     stop and start corosync in the node
  exec <node> -- <cmd...>     run a command in a node (stdin/stdout attached)
  logs <node> [-f] [--tail N] the node's container log (corosync + daemon + entrypoint)
  replace <node> [--start]    a replacement host: new container, same name and address, EMPTY
                              config.db volume, starting nothing (--start: the usual services)
  add [--direct]              one more node joins through /etc/pve/corosync.conf
                              (--direct: straight to /etc/corosync on each node)
  chaos [--nodes N] [--duration S] [--seed X] [--faults partition,fence,kill,corosync-restart]
        [--clients C] [--think MS] [--out DIR] [--plan]
                              a seeded chaos run with clients on every node of the cluster (brought
                              up with N nodes, default 3, if it is not); writes chaos-<seed>.jsonl
                              and chaos-<seed>.html (default .lab/chaos); --plan prints the seed's
                              fault schedule and stops (no cluster needed)
  chaos-report <history.jsonl> [report.html]
                              the checkers and the report again from a recorded history
  dashboard [--port N]        a live page of the cluster on http://127.0.0.1:8413/ (partition, heal,
                              fence, start from the page)`;

function log(line: string): void {
  process.stdout.write(`[lab] ${line}\n`);
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Split argv into flags (--x, --x value for the listed ones) and positional arguments. */
function parseArgs(argv: string[], withValue: readonly string[]): { flags: Map<string, string>; args: string[]; rest: string[] } {
  const flags = new Map<string, string>();
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { flags, args, rest: argv.slice(i + 1) };
    if (a.startsWith('-') && a.length > 1) {
      if (withValue.includes(a)) flags.set(a, argv[++i] ?? '');
      else flags.set(a, '');
    } else args.push(a);
  }
  return { flags, args, rest: [] };
}

async function execAttached(container: string, cmd: string[]): Promise<number> {
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const exec = await engine().getContainer(container).exec({ Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: tty });
  const stream = await exec.start({ hijack: true, stdin: true, Tty: tty });
  if (tty) {
    process.stdin.setRawMode(true);
    stream.pipe(process.stdout);
  } else {
    engine().modem.demuxStream(stream, process.stdout, process.stderr);
  }
  process.stdin.pipe(stream);
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  process.stdin.unpipe(stream);
  if (tty) process.stdin.setRawMode(false);
  process.stdin.pause();
  for (;;) {
    const i = await exec.inspect();
    if (!i.Running) return i.ExitCode ?? 1;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The chaos commands take their own options: everything after the command word goes to them. */
const OWN_ARGS: Record<string, (argv: readonly string[], log: (l: string) => void) => number | Promise<number>> = {
  chaos: chaosCommand,
  'chaos-report': chaosReportCommand,
  dashboard: dashboardCommand,
};

async function main(argv: string[]): Promise<number> {
  const at = argv[0] === '--cluster' ? 2 : 0;
  const own = OWN_ARGS[argv[at] ?? ''];
  if (own) {
    if (at === 2) process.env.LAB_CLUSTER = argv[1];
    return own(argv.slice(at + 1), log);
  }
  const { flags, args, rest } = parseArgs(argv, ['--cluster', '--nodes', '--tail']);
  if (flags.has('--cluster')) process.env.LAB_CLUSTER = flags.get('--cluster');
  const [cmd, ...pos] = args;
  const one = async (what: string): Promise<string> => {
    if (pos.length !== 1) throw new LabError(`${what} needs one node`);
    return pos[0]!;
  };
  switch (cmd) {
    case 'up': {
      const t0 = Date.now();
      const nodes = flags.has('--nodes') ? Number(flags.get('--nodes')) : undefined;
      if (nodes !== undefined && !(Number.isInteger(nodes) && nodes >= 1)) throw new LabError('--nodes needs a positive number');
      const corosyncRealtime = flags.has('--corosync-rt') ? true : flags.has('--no-corosync-rt') ? false : undefined;
      const r = await labUp({ log, nodes, recreate: flags.has('--recreate'), daemonArgs: flags.has('--local') ? '-l' : undefined, corosyncRealtime });
      console.log(statusTable(r.statuses));
      const ph = Object.entries(r.timings).map(([k, v]) => `${k} ${secs(v)}`).join(', ');
      log(`cluster ${defaultClusterName()} is up in ${secs(Date.now() - t0)} (${ph})`);
      return 0;
    }
    case 'prepare':
      await prepareHost(labPaths(), log);
      log('host ready: docker engine answering, base image present');
      return 0;
    case 'down':
      if (flags.has('--all')) {
        for (const c of await listClusters()) {
          await removeCluster(c.name);
          log(`cluster ${c.name} removed`);
        }
      } else await labDown(log);
      return 0;
    case 'list': {
      const all = await listClusters();
      for (const c of all) console.log(`${c.name.padEnd(16)} space ${c.space.padEnd(10)} nodes ${c.nodes}  owner ${c.owner}  since ${new Date(c.created).toISOString()}`);
      if (all.length === 0) log('no lab clusters');
      return 0;
    }
    case 'status':
      console.log(statusTable(await labStatus()));
      return 0;
    case 'partition': {
      if (pos.length === 0) throw new LabError('partition needs at least one group (node1,node2 node3)');
      const groups = pos.map((g) => g.split(',').filter(Boolean));
      const c = await labCluster();
      await c.partition(...groups);
      const rest = c.nodeNames.filter((n) => !groups.some((g) => g.includes(n)));
      log(`partitioned: ${[...groups, ...(rest.length ? [rest] : [])].map((g) => g.join('+')).join(' | ')}`);
      return 0;
    }
    case 'heal': {
      const healed = await (await labCluster()).heal();
      log(healed.length ? `reconnected: ${healed.join(' ')}` : 'no node was cut off');
      return 0;
    }
    case 'fence': {
      const n = await one('fence');
      await (await labCluster()).node(n).fence();
      log(`${n} killed`);
      return 0;
    }
    case 'stop': {
      const n = await one('stop');
      await (await labCluster()).node(n).stop();
      log(`${n} stopped`);
      return 0;
    }
    case 'start': {
      const n = await one('start');
      const t0 = Date.now();
      const c = await labCluster();
      await c.node(n).start();
      if (flags.has('--no-wait')) return log(`${n} started`), 0;
      for (const s of await c.waitHealthy({ nodes: [n], daemonQuorate: false, timeoutMs: 90_000 })) log(`${s.node}: ${describe(s)}`);
      log(`${n} started and healthy after ${secs(Date.now() - t0)}`);
      return 0;
    }
    case 'kill-daemon': {
      const n = await one('kill-daemon');
      log(`${n}: pmxcfs-ts pid ${await (await labCluster()).node(n).killDaemon('KILL')} killed`);
      return 0;
    }
    case 'restart-corosync': {
      const n = await one('restart-corosync');
      await (await labCluster()).node(n).restartCorosync();
      log(`${n}: corosync restarted`);
      return 0;
    }
    case 'exec': {
      const n = pos[0];
      if (!n || pos.length !== 1 || rest.length === 0) throw new LabError('usage: exec <node> -- <cmd...>');
      return execAttached((await labCluster()).node(n).container, rest);
    }
    case 'logs': {
      const n = await one('logs');
      const container = (await labCluster()).node(n).container;
      const tail = flags.has('--tail') ? Number(flags.get('--tail')) : undefined;
      if (!flags.has('-f')) {
        process.stdout.write((await containerLogs(container, tail ?? 100_000)) + '\n');
        return 0;
      }
      const stream = await engine().getContainer(container).logs({ follow: true, stdout: true, stderr: true, tail: tail ?? 'all' as unknown as number });
      engine().modem.demuxStream(stream, process.stdout, process.stderr);
      await new Promise((r) => stream.on('end', r));
      return 0;
    }
    case 'replace': {
      const n = await one('replace');
      await (await labCluster()).replaceNode(n, { bare: !flags.has('--start') });
      log(`${n} replaced (empty volume${flags.has('--start') ? '' : '; nothing started: copy config.db and /etc/corosync in, then start corosync and pmxcfs-ts'})`);
      return 0;
    }
    case 'add': {
      const t0 = Date.now();
      const st = await addNode({ log, direct: flags.has('--direct') });
      console.log(statusTable(st));
      log(`node joined in ${secs(Date.now() - t0)}`);
      return 0;
    }
    case undefined:
    case 'help':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`[lab] error: ${msg}`);
    if (!(e instanceof LabError) && !(await engineAnswers())) console.error('[lab] the Docker engine is not answering (`npm run lab -- up` starts it)');
    process.exit(1);
  },
);
