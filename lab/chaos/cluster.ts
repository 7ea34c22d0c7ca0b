// What the chaos engine needs from a cluster, and nothing more. lab/chaos/lab-cluster.ts implements
// it over a cluster of the lab library; the unit tests feed the checkers histories without one.

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A process running inside a node whose stdout arrives line by line. */
export interface NodeProcess {
  onLine(cb: (line: string) => void): void;
  /** Resolves with the exit status once the process (or the exec session) ended. */
  readonly exited: Promise<number>;
}

export interface ChaosNodeStatus {
  node: string;
  running: boolean; // the container / host is up
  corosyncQuorate: boolean | null; // null: corosync does not answer
  members: string[]; // corosync members this node sees
  mounted: boolean; // /etc/pve is a FUSE mount
  daemon: DaemonView | null; // the daemon's own view; null when it does not answer
}

export interface DaemonView {
  quorate: boolean;
  version: number;
  dcdbMode: string | null;
  locks: { name: string; writer: number; age: number }[];
}

export interface ChaosCluster {
  readonly nodes: readonly string[];
  /** What this cluster can only approximate (e.g. a partition shape), for the report. */
  readonly notes: readonly string[];
  exec(node: string, argv: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  spawn(node: string, argv: readonly string[], input: string): NodeProcess;
  /** Split into groups: nodes see each other only within their group. */
  partition(groups: readonly (readonly string[])[]): Promise<{ note?: string }>;
  heal(): Promise<void>;
  /** Kill the node as a fencing device would. */
  fence(node: string): Promise<void>;
  /** Start a fenced node again (returns once its container runs; rejoining is measured apart). */
  start(node: string): Promise<void>;
  /** SIGKILL the pmxcfs daemon only (corosync keeps running). */
  killDaemon(node: string): Promise<void>;
  /** Start the daemon again after killDaemon. */
  startDaemon(node: string): Promise<void>;
  restartCorosync(node: string): Promise<{ note?: string }>;
  status(node: string): Promise<ChaosNodeStatus>;
  /** Put nodes back into their normal supervised shape after a run. */
  restore(): Promise<void>;
}

/** Every node up, quorate with all members, daemon quorate and mounted. */
export function fullyHealthy(all: readonly ChaosNodeStatus[], nodeCount: number): boolean {
  return (
    all.length === nodeCount &&
    all.every((s) => s.running && s.corosyncQuorate === true && s.members.length === nodeCount && s.mounted && s.daemon?.quorate === true)
  );
}
