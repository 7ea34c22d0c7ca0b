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

export async function execIn(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
  const r = await execInContainer(await containerOf(node), argv, { timeoutMs: 30_000, ...opts });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

export function shIn(node: string, script: string, opts: ExecOptions = {}): Promise<RunResult> {
  return execIn(node, ['sh', '-c', script], opts);
}

export async function containerState(node: string): Promise<ContainerSummary> {
  return inspectContainer(await containerOf(node));
}
