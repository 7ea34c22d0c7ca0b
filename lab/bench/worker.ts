/**
 * The bench worker: a child process of the bench that performs the timed file operations on the
 * mount, one at a time, as the main process asks. It hosts no daemon, so synchronous fs calls into
 * the mount are safe here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MEASUREMENTS, removeScratch, type WorkerContext } from './operations';
import type { WorkerReply, WorkerRequest } from './protocol';
import { isMountPoint } from './target';
import { clientFor } from './fs-client';

let ctx: WorkerContext | undefined;
let mustStayMounted = false;

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

async function handle(req: WorkerRequest): Promise<Record<string, number>> {
  if (req.cmd === 'init') {
    mustStayMounted = req.mustStayMounted;
    if (mustStayMounted && !isMountPoint(req.mount)) throw new Error(`${req.mount} is not mounted`);
    const workdir = path.join(req.mount, `bench-${process.pid}`);
    fs.mkdirSync(workdir);
    ctx = { mount: req.mount, workdir, node: req.node, vmidBase: req.vmidBase, createdDirs: [] };
    return {};
  }
  if (!ctx) throw new Error('worker not initialised');
  // Never write into the directory under a mount that went away (daemon stopped or crashed).
  if (mustStayMounted && !isMountPoint(ctx.mount)) throw new Error(`${ctx.mount} is no longer mounted`);
  if (req.cmd === 'finish') {
    removeScratch(ctx);
    return {};
  }
  const name = req.name;
  const m = MEASUREMENTS.find((x) => x.name === name);
  if (!m) throw new Error(`unknown measurement ${name}`);
  switch (req.cmd) {
    case 'setup':
      m.setup?.(ctx);
      return {};
    case 'run':
      return m.run(ctx, req.limits, clientFor(req.pattern));
    case 'afterRun':
      m.afterRun?.(ctx);
      return {};
    case 'teardown':
      m.teardown?.(ctx);
      return {};
  }
}

process.on('message', async (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: req.id, ok: true, result: await handle(req) };
  } catch (err) {
    reply = { id: req.id, ok: false, error: describeError(err) };
  }
  // The callback keeps a vanished parent (EPIPE) from becoming an uncaught error.
  process.send?.(reply, undefined, undefined, (err) => {
    if (err) process.exit(0);
  });
});

// The parent going away ends the worker.
process.on('disconnect', () => process.exit(0));
