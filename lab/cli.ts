// The lab CLI: `npm run lab -- <command>` (see docs/lab.md).
import { docker, dockerBin } from './docker';
import { describe, fence, heal, LabError, labDown, labStatus, labUp, partition, requireNode, start, addNode } from './lab';
import { statusTable } from './node-status';
import { replaceNode } from './replace-node';
import { runInherit } from './run';
import { chaosCommand, chaosReportCommand } from './chaos/command';
import { dashboardCommand } from './dashboard/command';

const USAGE = `usage: npm run lab -- <command>
  up [--local] [--no-build] [--recreate]
                              prepare docker, build the node image, start node1..3, wait for quorum
                              and /etc/pve; --local runs the daemon with -l (local mode);
                              --recreate replaces running containers (volumes are kept)
  down                        remove the lab's containers, network and volumes
  status                      per node: container, corosync quorum/members, daemon, /etc/pve
  partition <node...>         cut each node off the lab network (docker network disconnect)
  heal [node...]              reconnect (default: every cut-off node) with its fixed address
  fence <node>                docker kill -s KILL, as a fencing device would
  start <node> [--no-wait]    start a stopped/fenced node and wait until it is back
  exec <node> -- <cmd...>     run a command in a node (stdin/stdout attached)
  logs <node> [-f] [--tail N] the node's container log (corosync + daemon + entrypoint)
  replace <node> [--start]    a replacement host: new container, same name and address, EMPTY
                              config.db volume, starting nothing (--start: the usual services)
  chaos [--nodes N] [--duration S] [--seed X] [--faults partition,fence,kill,corosync-restart]
        [--clients C] [--think MS] [--out DIR] [--plan]
                              a seeded chaos run with clients on every node; writes
                              chaos-<seed>.jsonl and chaos-<seed>.html (default .lab/chaos);
                              --plan prints the seed's fault schedule and stops
  dashboard [--port N]        a live page of the lab on http://127.0.0.1:8413/ (partition, heal,
                              fence, start from the page)
  chaos-report <history.jsonl> [report.html]
                              the checkers and the report again from a recorded history
  add [--direct]              node4 joins: 4-node corosync.conf written through /etc/pve/corosync.conf
                              (--direct: straight to /etc/corosync on each node, bypassing pmxcfs)`;

function log(line: string): void {
  process.stdout.write(`[lab] ${line}\n`);
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const args = rest.filter((a) => !a.startsWith('--'));
  switch (cmd) {
    case 'up': {
      const t0 = Date.now();
      const r = await labUp({
        log,
        build: !flags.has('--no-build'),
        recreate: flags.has('--recreate'),
        daemonArgs: flags.has('--local') ? '-l' : undefined,
      });
      console.log(statusTable(r.statuses));
      const ph = Object.entries(r.timings).map(([k, v]) => `${k} ${secs(v)}`).join(', ');
      log(`lab is up in ${secs(Date.now() - t0)} (${ph})`);
      return 0;
    }
    case 'down':
      await labDown(log);
      return 0;
    case 'status': {
      console.log(statusTable(await labStatus()));
      return 0;
    }
    case 'partition': {
      if (args.length === 0) throw new LabError('partition needs at least one node');
      await partition(args);
      log(`cut off: ${args.join(' ')}`);
      return 0;
    }
    case 'heal': {
      const healed = await heal(args);
      log(healed.length ? `reconnected: ${healed.join(' ')}` : 'no node was cut off');
      return 0;
    }
    case 'fence': {
      if (args.length !== 1) throw new LabError('fence needs one node');
      await fence(args[0]!);
      log(`${args[0]} killed`);
      return 0;
    }
    case 'start': {
      if (args.length !== 1) throw new LabError('start needs one node');
      const t0 = Date.now();
      const st = await start(args[0]!, { wait: !flags.has('--no-wait') });
      for (const s of st) log(`${s.node}: ${describe(s)}`);
      log(`${args[0]} started${flags.has('--no-wait') ? '' : ` and healthy after ${secs(Date.now() - t0)}`}`);
      return 0;
    }
    case 'exec': {
      const sep = rest.indexOf('--');
      const node = rest[0];
      if (!node || sep !== 1 || sep === rest.length - 1) throw new LabError('usage: exec <node> -- <cmd...>');
      requireNode(node);
      const tty = process.stdin.isTTY && process.stdout.isTTY;
      return runInherit(dockerBin(), ['exec', '-i', ...(tty ? ['-t'] : []), node, ...rest.slice(sep + 1)]);
    }
    case 'logs': {
      const node = args[0];
      if (!node) throw new LabError('logs needs a node');
      requireNode(node);
      const tailIdx = rest.indexOf('--tail');
      const tail = tailIdx >= 0 ? rest[tailIdx + 1] : undefined;
      const extra = [...(flags.has('-f') || rest.includes('-f') ? ['-f'] : []), ...(tail ? ['--tail', tail] : [])];
      return runInherit(dockerBin(), ['logs', ...extra, node]);
    }
    case 'replace': {
      if (args.length !== 1) throw new LabError('replace needs one node');
      await replaceNode(args[0]!, { bare: !flags.has('--start') });
      log(`${args[0]} replaced (empty volume${flags.has('--start') ? '' : '; nothing started: copy config.db and /etc/corosync in, then start corosync and pmxcfs-ts'})`);
      return 0;
    }
    case 'chaos':
      return chaosCommand(rest, log);
    case 'dashboard':
      return dashboardCommand(rest, log);
    case 'chaos-report':
      return chaosReportCommand(rest, log);
    case 'add': {
      const t0 = Date.now();
      const st = await addNode({ log, direct: flags.has('--direct') });
      console.log(statusTable(st));
      log(`node4 joined in ${secs(Date.now() - t0)}`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`[lab] error: ${msg}`);
    // A dead engine is the most common cause of everything else failing: say so.
    if (!(e instanceof LabError) && (await docker(['info'], { timeoutMs: 10_000 })).code !== 0)
      console.error('[lab] the Docker engine is not answering (`npm run lab -- up` starts it)');
    process.exit(1);
  },
);
