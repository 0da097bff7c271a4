#!/usr/bin/env node
// First step of `npm start`, `npm test` and `npm run check`: installs the npm packages when they are
// missing or older than package-lock.json. Plain Node with no dependencies, since it runs before any exist.
// The Go-built servers (Temporal CLI, FerretDB) are built later, and only when they are needed,
// by scripts/lib/tools.ts.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockFile = join(root, 'package-lock.json');
const stampFile = join(root, 'node_modules', '.evrotrust-install-stamp');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`evrotrust-signing needs Node.js >= 20.19 (this is ${process.versions.node}).`);
  process.exit(1);
}

const wanted = createHash('sha256').update(readFileSync(lockFile)).digest('hex');
const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
if (have !== wanted) {
  console.error('Installing npm packages (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error('npm ci failed; see the output above.');
    process.exit(r.status ?? 1);
  }
  writeFileSync(stampFile, wanted + '\n');
}
