// Compatibility for code written against the old fixed lab: commands in a node of the default
// cluster by node name (node1, ...), through dockerode. New code uses cluster.node(name).exec().
import { execInContainer, inspectContainer, type ContainerSummary } from './dockerode-client';
import { labCluster } from './lab';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
}

async function containerOf(node: string): Promise<string> {
  return (await labCluster()).node(node).container;
}

/** Like `docker exec`: a stopped or missing container is a failed command (status 1), not an exception. */
export async function execIn(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
  const container = await containerOf(node);
  try {
    const r = await execInContainer(container, argv, { timeoutMs: 30_000, ...opts });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    if (status === 404 || status === 409) return { code: 1, stdout: '', stderr: `${container}: ${(e as Error).message}` };
    throw e;
  }
}

export function shIn(node: string, script: string, opts: ExecOptions = {}): Promise<RunResult> {
  return execIn(node, ['sh', '-c', script], opts);
}

export async function containerState(node: string): Promise<ContainerSummary> {
  return inspectContainer(await containerOf(node));
}

export async function logsTail(node: string, lines = 40): Promise<string> {
  return (await labCluster()).node(node).logs(lines);
}

const nameOf = (n: { name: string } | string): string => (typeof n === 'string' ? n : n.name);

/** Take a node off the network entirely (heal() reattaches it at its address). */
export async function disconnect(node: { name: string } | string): Promise<void> {
  await (await labCluster()).disconnect(nameOf(node));
}

/** Reattach every node taken off the network (and undo partitions). */
export async function connect(_node?: { name: string } | string): Promise<void> {
  await (await labCluster()).heal();
}

export async function killNode(node: { name: string } | string): Promise<void> {
  await (await labCluster()).node(nameOf(node)).fence();
}

export async function startNode(node: { name: string } | string): Promise<void> {
  await (await labCluster()).node(nameOf(node)).start();
}
