#!/usr/bin/env node
'use strict';
// The pinned Node.js runtime (infra/node-runtime.json), installed from the npm registry's official
// builds into the per-machine cache. Plain JavaScript with no dependency: ./vsc runs it with whatever
// Node the machine has (20 is enough) before anything is installed.
//
//   node infra/bin/node-runtime.js bin-dir        the folder to put first on PATH: the machine's own
//                                                 node's when it is not older than the pin, else the
//                                                 cached pinned runtime's (installed on first use)
//   node infra/bin/node-runtime.js binary <platform>   the pinned runtime's binary for linux-x64 or
//                                                 win-x64 (the single executables are built from it)
//   node infra/bin/node-runtime.js version        the pinned version
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const pin = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node-runtime.json'), 'utf8'));

function cacheRoot() {
  if (process.env.VSC_RUNTIME_CACHE) return process.env.VSC_RUNTIME_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'vansales-connect', 'runtime');
}

function older(version, than) {
  const a = version.replace(/^v/, '').split('.').map(Number);
  const b = than.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

function fail(message) {
  process.stderr.write(`vsc: ${message}\n`);
  process.exit(1);
}

/** The pinned runtime's folder for a platform, installed once: npm pack, integrity check, unpack, rename. */
function ensure(platform) {
  const spec = pin.packages[platform];
  if (!spec)
    fail(
      `no pinned Node.js package for ${platform} (infra/node-runtime.json has ${Object.keys(pin.packages).join(', ')})`,
    );
  const dir = path.join(cacheRoot(), `node-v${pin.version}-${platform}`);
  const binary = path.join(dir, spec.binary);
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(cacheRoot(), { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheRoot(), `.install-${platform}-`));
  try {
    process.stderr.write(
      `[vsc] installing Node.js ${pin.version} (${platform}) from the npm registry (first run only)\n`,
    );
    // npm pack fetches the tarball only: nothing of the package runs.
    execFileSync('npm', ['pack', '--silent', '--pack-destination', work, `${spec.name}@${pin.version}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tarball = fs.readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) fail(`npm pack ${spec.name}@${pin.version} wrote no tarball`);
    const [algorithm, expected] = spec.integrity.split(/-(.*)/s);
    const actual = createHash(algorithm)
      .update(fs.readFileSync(path.join(work, tarball)))
      .digest('base64');
    if (actual !== expected) {
      fail(
        `${spec.name}@${pin.version}: the tarball's ${algorithm} is ${actual}, the pinned integrity is ${expected}; refused (nothing installed)`,
      );
    }
    const unpacked = path.join(work, 'unpacked');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', path.join(work, tarball), '-C', unpacked, '--strip-components=1']);
    fs.chmodSync(path.join(unpacked, spec.binary), 0o755);
    try {
      // Another run may have installed it meanwhile: its copy is as good as ours.
      fs.renameSync(unpacked, dir);
    } catch (err) {
      if (!fs.existsSync(binary)) throw err;
    }
    return binary;
  } catch (err) {
    const detail = err && err.stderr ? String(err.stderr).trim() : String(err && err.message ? err.message : err);
    fail(`installing Node.js ${pin.version} (${spec.name}) failed: ${detail}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const [command, arg] = process.argv.slice(2);
if (command === 'version') {
  process.stdout.write(`${pin.version}\n`);
} else if (command === 'binary') {
  process.stdout.write(`${ensure(arg || 'linux-x64')}\n`);
} else if (command === 'bin-dir') {
  const own = process.env.VSC_FORCE_PINNED_NODE ? false : !older(process.version, pin.version);
  process.stdout.write(
    `${own ? path.dirname(process.execPath) : path.dirname(ensure(`${process.platform}-${process.arch}`))}\n`,
  );
} else {
  fail('usage: node-runtime.js bin-dir | binary <linux-x64|win-x64> | version');
}
