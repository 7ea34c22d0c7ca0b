// Stage the node image's build context (.lab/context): the host's Node binary, the compiled project
// and its production node_modules. Nothing is compiled in the image: the native modules were built on
// this same Debian 12 (glibc) host.
import * as fs from 'fs';
import * as path from 'path';
import { runChecked } from './run';
import type { LabPaths } from './topology';

// Build leftovers that native packages keep next to their .node files; not needed at run time.
const SKIP_DIRS = new Set(['obj', 'obj.target', '.deps', 'deps', 'test', 'tests', '.github']);
const SKIP_FILE = /\.(a|o|mk|gyp|gypi|md|map)$|^Makefile$|^config\.gypi$|^test_extension\.node$/;

export interface StageResult {
  packages: number;
  bytes: number;
}

/** Production dependency directories, relative to the root (npm ls --omit=dev --parseable --all). */
export async function productionPackages(root: string): Promise<string[]> {
  // npm ls exits non-zero for extraneous/invalid trees while still listing; accept its output.
  const r = await runChecked('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: root, timeoutMs: 120_000 }).catch(
    (e: { result?: { stdout: string } }) => ({ stdout: e.result?.stdout ?? '' }),
  );
  const dirs = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && path.resolve(l) !== path.resolve(root))
    .map((l) => path.relative(root, l));
  if (dirs.length === 0) throw new Error('npm ls --omit=dev listed no production packages (run npm install first)');
  return dirs;
}

// The classic builder's cache key for COPY includes file times: keep them, or every staging of an
// unchanged tree makes a new image (and compose recreates every container on the next `up`).
function copyFileKeepingTimes(src: string, dst: string): number {
  fs.copyFileSync(src, dst);
  const st = fs.statSync(src);
  fs.chmodSync(dst, st.mode & 0o777);
  fs.utimesSync(dst, st.atime, st.mtime);
  return st.size;
}

function keepTimes(src: string, dst: string): void {
  const st = fs.statSync(src);
  fs.utimesSync(dst, st.atime, st.mtime);
}

function copyTree(src: string, dst: string, filter: (name: string, isDir: boolean) => boolean): number {
  let bytes = 0;
  fs.mkdirSync(dst, { recursive: true });
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, entry.name);
    const d = path.join(dst, entry.name);
    if (entry.isDirectory()) {
      if (filter(entry.name, true)) bytes += copyTree(s, d, filter);
    } else if (entry.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(s), d);
    } else if (entry.isFile() && filter(entry.name, false)) {
      bytes += copyFileKeepingTimes(s, d);
    }
  }
  keepTimes(src, dst); // after the children: adding them changed the directory's mtime
  return bytes;
}

/**
 * Rebuild the context from scratch. The Node binary is hard-linked when it can be (same file
 * system), which makes staging cheap; docker reads the bytes either way.
 */
export async function stageContext(p: LabPaths, log: (s: string) => void = () => undefined): Promise<StageResult> {
  const distSrc = path.join(p.root, 'dist', 'src');
  if (!fs.existsSync(distSrc)) log(`warning: ${distSrc} does not exist; the image will run corosync only`);
  const ctx = p.contextDir;
  fs.rmSync(ctx, { recursive: true, force: true });
  fs.mkdirSync(path.join(ctx, 'app', 'node_modules'), { recursive: true });

  let bytes = 0;
  const nodeDst = path.join(ctx, 'node');
  try {
    fs.linkSync(process.execPath, nodeDst);
  } catch {
    fs.copyFileSync(process.execPath, nodeDst);
  }
  bytes += fs.statSync(nodeDst).size;

  copyFileKeepingTimes(p.entrypoint, path.join(ctx, 'entrypoint.sh'));
  copyFileKeepingTimes(p.dockerfile, path.join(ctx, 'Dockerfile'));
  copyFileKeepingTimes(path.join(p.root, 'package.json'), path.join(ctx, 'app', 'package.json'));

  const distDst = path.join(ctx, 'app', 'dist', 'src');
  fs.mkdirSync(distDst, { recursive: true });
  if (fs.existsSync(distSrc)) bytes += copyTree(distSrc, distDst, (name) => !name.endsWith('.map'));

  const pkgs = await productionPackages(p.root);
  for (const rel of pkgs) {
    // rel is node_modules/<name> or node_modules/a/node_modules/b: keep the same layout.
    bytes += copyTree(path.join(p.root, rel), path.join(ctx, 'app', rel), (name, isDir) =>
      isDir ? !SKIP_DIRS.has(name) : !SKIP_FILE.test(name),
    );
  }
  // Directories made here rather than copied get their sources' times too.
  keepTimes(path.join(p.root, 'node_modules'), path.join(ctx, 'app', 'node_modules'));
  if (fs.existsSync(distSrc)) {
    keepTimes(path.join(p.root, 'dist'), path.join(ctx, 'app', 'dist'));
    keepTimes(distSrc, distDst);
  }
  for (const rel of pkgs) {
    // intermediate directories such as node_modules/@scope
    let dir = path.dirname(rel);
    while (dir !== '.' && dir !== 'node_modules' && dir !== '') {
      keepTimes(path.join(p.root, dir), path.join(ctx, 'app', dir));
      dir = path.dirname(dir);
    }
  }
  log(`staged ${pkgs.length} production packages, dist/src and node ${process.version} (${(bytes / 1e6).toFixed(1)} MB)`);
  return { packages: pkgs.length, bytes };
}
