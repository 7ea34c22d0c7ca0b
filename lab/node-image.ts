// The node image for lab clusters: built offline from the local base image (debian:bookworm-slim,
// made with debootstrap when missing) and this checkout's dist/ and production node_modules, through
// the engine API. Its tag carries a hash of those inputs (pmxcfs-ts-node:<hash>), so an unchanged
// checkout reuses the image without staging or building anything, and clusters started from two
// checkouts never overwrite each other's image.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { engine, imageExists } from './dockerode-client';
import { ensureBaseImage } from './engine';
import { LABEL } from './labels';
import { stageContext } from './stage-context';
import { labPaths, type LabPaths } from './topology';

export type Log = (line: string) => void;

function walk(dir: string, out: string[]): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && !e.name.endsWith('.map')) out.push(p);
  }
}

/**
 * Hash of what goes into the image: Dockerfile, entrypoint, lock file, Node version, and the names
 * and contents of dist/src (contents, not times: a rebuild with the same output keeps the image).
 */
export function imageInputsHash(p: LabPaths = labPaths()): string {
  const h = createHash('sha256');
  for (const f of [p.dockerfile, p.entrypoint, path.join(p.root, 'package-lock.json')]) {
    h.update(f).update(fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0));
  }
  h.update(process.version).update(process.execPath);
  const files: string[] = [];
  walk(path.join(p.root, 'dist', 'src'), files);
  files.sort();
  for (const f of files) {
    h.update(`${path.relative(p.root, f)}\0`).update(fs.readFileSync(f));
  }
  return h.digest('hex').slice(0, 12);
}

export function nodeImageTag(hash: string): string {
  return `pmxcfs-ts-node:${hash}`;
}

/**
 * The node image for this checkout: reused when its tag exists, else built (with docker's step lines
 * passed to `log`). Needs a running engine.
 */
export async function ensureNodeImage(opts: { log?: Log; paths?: LabPaths } = {}): Promise<string> {
  const log = opts.log ?? (() => undefined);
  const p = opts.paths ?? labPaths();
  const hash = imageInputsHash(p);
  const tag = nodeImageTag(hash);
  if (await imageExists(tag)) return tag;
  if (!fs.existsSync(path.join(p.root, 'dist', 'src', 'main.js'))) {
    throw new Error(`${path.join(p.root, 'dist/src/main.js')} is missing: run \`npm run build\` first`);
  }
  await ensureBaseImage(p, log);
  // A context of its own per build: two processes may build at the same time.
  const ctxPaths: LabPaths = { ...p, contextDir: `${p.contextDir}-${hash}-${process.pid}` };
  log(`building ${tag} (node image for this checkout)`);
  try {
    await stageContext(ctxPaths, log);
    const stream = await engine().buildImage(
      { context: ctxPaths.contextDir, src: fs.readdirSync(ctxPaths.contextDir) },
      { t: tag, labels: { [LABEL.project]: '1', [LABEL.imageInputs]: hash }, rm: true, forcerm: true },
    );
    await new Promise<void>((resolve, reject) => {
      engine().modem.followProgress(
        stream,
        (err: Error | null, output: Array<{ error?: string }>) => {
          const failed = err ?? output.find((o) => o.error);
          if (failed) reject(new Error(`building ${tag} failed: ${failed instanceof Error ? failed.message : failed.error}`));
          else resolve();
        },
        (ev: { stream?: string; error?: string }) => {
          const line = (ev.stream ?? ev.error ?? '').trim();
          if (/^Step \d+\/\d+|^Successfully/.test(line) || ev.error) log(`  ${line}`);
        },
      );
    });
  } finally {
    fs.rmSync(ctxPaths.contextDir, { recursive: true, force: true });
  }
  if (!(await imageExists(tag))) throw new Error(`building ${tag} reported success but the image is missing`);
  return tag;
}
