// The browser client loads msgpack from the server, not a CDN: this copies the ES modules of
// @msgpack/msgpack (the version in package-lock.json) into clients/web/vendor/msgpack/, where
// the pages' import map finds them. Checked in, so `tablium serve` needs no npm.
//
//   node scripts/vendor-msgpack.mjs           copy
//   node scripts/vendor-msgpack.mjs --check   exit 1 when the copy differs from node_modules
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const PACKAGE = here('../node_modules/@msgpack/msgpack/');
const SOURCE = join(PACKAGE, 'dist.esm');
const TARGET = here('../../web/vendor/msgpack/');

async function listFiles(folder, keep) {
  const found = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(path, keep)));
    else if (keep(entry.name)) found.push(path);
  }
  return found.sort();
}

async function wanted() {
  const files = new Map();
  const version = JSON.parse(await readFile(join(PACKAGE, 'package.json'), 'utf8')).version;
  for (const path of await listFiles(SOURCE, (name) => name.endsWith('.mjs'))) {
    const text = (await readFile(path, 'utf8')).replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
    files.set(relative(SOURCE, path), text);
  }
  files.set('LICENSE.txt', await readFile(join(PACKAGE, 'LICENSE'), 'utf8'));
  files.set('VERSION.txt', `@msgpack/msgpack ${version} (dist.esm), copied by clients/js/scripts/vendor-msgpack.mjs\n`);
  return files;
}

const files = await wanted();
if (process.argv.includes('--check')) {
  const present = await listFiles(TARGET, () => true).catch(() => []);
  let stale = present.length !== files.size;
  for (const [name, text] of files) {
    const current = await readFile(join(TARGET, name), 'utf8').catch(() => null);
    if (current !== text) stale = true;
  }
  if (stale) {
    console.error('clients/web/vendor/msgpack differs from node_modules: run `make vendor`');
    process.exit(1);
  }
} else {
  await rm(TARGET, { recursive: true, force: true });
  for (const [name, text] of files) {
    await mkdir(dirname(join(TARGET, name)), { recursive: true });
    await writeFile(join(TARGET, name), text);
  }
  console.log(`copied ${files.size} files into clients/web/vendor/msgpack`);
}
