#!/usr/bin/env node
// Build the optional native kernel pack (scconv_native.node) with node-gyp against Debian's
// oneDNN. Runs from `npm install` / `npm ci` (the root package's install script) and from
// `npm run build:native`. It never fails the install: without g++ or libdnnl-dev it explains what
// is missing and the project falls back to the stock tfjs backends (src/backend.ts).
// `--strict` (or SCCONV_NATIVE_STRICT=1) exits non-zero on failure instead, for CI checks.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const strict = process.argv.includes('--strict') || process.env.SCCONV_NATIVE_STRICT === '1';
const here = __dirname;

function giveUp(why) {
  console.error(`scconv: native kernel pack not built: ${why}.`);
  console.error('scconv: training falls back to the stock tfjs cpu backend (much slower). To build it:');
  console.error('scconv:   sudo apt-get install g++ make libdnnl-dev   # Debian/Ubuntu');
  console.error('scconv:   npm run build:native');
  process.exit(strict ? 1 : 0);
}

if (process.env.SCCONV_SKIP_NATIVE === '1') giveUp('SCCONV_SKIP_NATIVE=1');
if (process.platform !== 'linux') giveUp(`only Linux builds are set up (this is ${process.platform})`);

const headers = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'];
if (!headers.some((h) => fs.existsSync(h))) giveUp('oneDNN headers not found (package libdnnl-dev)');

// node-gyp ships with npm; npm tells scripts where, else look next to this node.
const gypCandidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
];
let gyp = gypCandidates.find((f) => f && fs.existsSync(f));
if (!gyp) {
  try {
    gyp = require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    giveUp('node-gyp not found (it ships with npm)');
  }
}

// Build against this node's own headers (no download): <prefix>/include/node.
const args = [gyp, 'rebuild', '--directory', here];
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

console.error('scconv: building the native kernel pack (oneDNN) ...');
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const lines = (r.stderr || '').split('\n').filter((l) => /error/i.test(l)).slice(0, 5).join('\n');
  giveUp(`node-gyp failed${lines ? `:\n${lines}` : ''}`);
}
console.error(`scconv: built ${path.join(here, 'build', 'Release', 'scconv_native.node')}`);
