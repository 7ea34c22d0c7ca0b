// Thin wrappers over the docker and docker-compose command-line clients, scoped to the lab.
import { run, runChecked, type RunOptions, type RunResult } from './run';
import { NETWORK, PROJECT, labPaths, type LabNode } from './topology';

/** The docker client. LAB_DOCKER overrides; the default is the first `docker` on PATH. */
export function dockerBin(): string {
  return process.env.LAB_DOCKER || 'docker';
}

export function docker(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return run(dockerBin(), args, opts);
}

export function dockerChecked(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return runChecked(dockerBin(), args, opts);
}

/** docker-compose (v1, Debian) with the lab's project name and compose file, always. */
export function compose(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const p = labPaths();
  return run('docker-compose', ['-p', PROJECT, '-f', p.composeFile, ...args], {
    cwd: p.root,
    ...opts,
  });
}

export async function composeChecked(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  const p = labPaths();
  return runChecked('docker-compose', ['-p', PROJECT, '-f', p.composeFile, ...args], { cwd: p.root, ...opts });
}

export async function engineRunning(): Promise<boolean> {
  return (await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 })).code === 0;
}

export async function imageExists(name: string): Promise<boolean> {
  return (await docker(['image', 'inspect', name], { timeoutMs: 15_000 })).code === 0;
}

export interface ContainerState {
  exists: boolean;
  running: boolean;
  status: string; // running, exited, created, ... or "absent"
  exitCode: number;
  networks: Record<string, string>; // network name -> IPv4 address
}

export async function containerState(name: string): Promise<ContainerState> {
  const r = await docker(['container', 'inspect', '--format', '{{json .State}}|{{json .NetworkSettings.Networks}}', name], {
    timeoutMs: 15_000,
  });
  if (r.code !== 0) return { exists: false, running: false, status: 'absent', exitCode: -1, networks: {} };
  const [stateJson, netJson] = r.stdout.trim().split('|');
  const state = JSON.parse(stateJson ?? '{}') as { Status?: string; Running?: boolean; ExitCode?: number };
  const nets = JSON.parse(netJson || '{}') as Record<string, { IPAddress?: string }> | null;
  const networks: Record<string, string> = {};
  for (const [k, v] of Object.entries(nets ?? {})) networks[k] = v.IPAddress ?? '';
  return {
    exists: true,
    running: state.Running === true,
    status: state.Status ?? 'unknown',
    exitCode: state.ExitCode ?? -1,
    networks,
  };
}

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
}

/** Run a command inside a node container and capture its output. Never throws for a failure. */
export function execIn(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
  const args = ['exec', ...(opts.input !== undefined ? ['-i'] : []), node, ...argv];
  return docker(args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
}

/** A shell snippet inside a node (sh -c). */
export function shIn(node: string, script: string, opts: ExecOptions = {}): Promise<RunResult> {
  return execIn(node, ['sh', '-c', script], opts);
}

export async function logsTail(node: string, lines = 40): Promise<string> {
  const r = await docker(['logs', '--tail', String(lines), node], { timeoutMs: 15_000 });
  return (r.stdout + r.stderr).trimEnd();
}

/** Cut a node off the lab network (it keeps running, alone). */
export async function disconnect(node: LabNode): Promise<void> {
  await dockerChecked(['network', 'disconnect', NETWORK, node.name], { timeoutMs: 30_000 });
}

/** Put a node back on the lab network; the address must be repeated or docker picks another. */
export async function connect(node: LabNode): Promise<void> {
  await dockerChecked(['network', 'connect', '--ip', node.ip, NETWORK, node.name], { timeoutMs: 30_000 });
}

/** What a fencing device does: the node dies at once, no shutdown. */
export async function killNode(node: LabNode): Promise<void> {
  await dockerChecked(['kill', '-s', 'KILL', node.name], { timeoutMs: 30_000 });
}

export async function startNode(node: LabNode): Promise<void> {
  await dockerChecked(['start', node.name], { timeoutMs: 60_000 });
}
