#!/usr/bin/env node
// `npm run lab -- <command>`: runs the lab CLI from dist/ and compiles first only when a source file
// (src/, lab/, tsconfig.json, package.json) is newer than the last build of dist/lab/cli.js, so
// status, exec, partition and heal answer at once on an unchanged checkout.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'lab', 'cli.js');

function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function newestTs(dir) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, mtime(p));
  }
  return newest;
}

const sources = Math.max(
  newestTs(path.join(root, 'src')),
  newestTs(path.join(root, 'lab')),
  mtime(path.join(root, 'tsconfig.json')),
  mtime(path.join(root, 'package.json')),
);
if (sources > mtime(cli)) {
  process.stderr.write('[lab] sources changed since the last build: npm run build\n');
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
require(cli);
