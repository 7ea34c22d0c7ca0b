/** Messages between the bench main process and its worker process (JSON over the fork IPC channel). */
import type { ClientPattern } from './fs-client';
import type { RunLimits } from './operations';

export type WorkerRequest =
  | {
      id: number;
      cmd: 'init';
      mount: string;
      node: string;
      vmidBase: number;
      /** The mount was a mount point at start: refuse to go on if it stops being one. */
      mustStayMounted: boolean;
    }
  | { id: number; cmd: 'setup' | 'afterRun' | 'teardown'; name: string }
  | { id: number; cmd: 'run'; name: string; limits: RunLimits; pattern: ClientPattern }
  | { id: number; cmd: 'finish' };

export type WorkerReply =
  | { id: number; ok: true; result: Record<string, number> }
  | { id: number; ok: false; error: string };
