/** The main process's handle on the bench worker: forks it and sends requests one at a time. */
import { fork, type ChildProcess } from 'child_process';
import * as path from 'path';
import type { WorkerReply, WorkerRequest } from './protocol';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type Request = DistributiveOmit<WorkerRequest, 'id'>;

export class WorkerClient {
  private readonly child: ChildProcess;
  private nextId = 1;
  private pending: { id: number; resolve: (r: Record<string, number>) => void; reject: (e: Error) => void } | undefined;
  private dead: string | undefined;

  constructor() {
    this.child = fork(path.join(__dirname, 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (reply: WorkerReply) => {
      const p = this.pending;
      if (!p || p.id !== reply.id) return;
      this.pending = undefined;
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new Error(reply.error));
    });
    this.child.on('exit', (code, signal) => {
      this.dead = `worker exited (${code ?? signal})`;
      this.pending?.reject(new Error(this.dead));
      this.pending = undefined;
    });
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  /** Sends one request; kills the worker if it does not answer within timeoutMs (a hung mount). */
  call(request: Request, timeoutMs: number): Promise<Record<string, number>> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    if (this.pending) return Promise.reject(new Error('worker busy'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(new Error(`worker did not answer ${request.cmd} within ${Math.round(timeoutMs / 1000)} s; killed it`));
      }, timeoutMs);
      this.pending = {
        id,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.child.send({ ...request, id } as WorkerRequest);
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Closes the IPC channel; the worker exits on disconnect. */
  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}
