// Starts the repo's own tslab (node_modules/tslab) with the repository root as
// the working directory, wherever Jupyter opened the notebook. tslab compiles
// a cell together with the files it imports and requires them all to live under
// its working directory, so notebooks import the library as './src/index'.
'use strict';
const path = require('path');

const repoRoot = path.resolve(__dirname, '..', '..', '..');
process.chdir(repoRoot);

// tslab 1.0.22 keeps a single rebuild timer and throws "Unexpected pending rebuildTimer" in the
// next cell when TypeScript's directory watchers fire between cells (a file created or deleted
// under the repo: a new source file, a run folder). Directory watching only re-tries module
// lookups that failed; edits to files a cell imported are still picked up through file watchers.
// Restart the kernel after adding a new module file.
const ts = require(path.join(repoRoot, 'node_modules', '@tslab', 'typescript-for-tslab'));
ts.sys.watchDirectory = () => ({ close() {} });
// tslab's command line reads process.argv: [node, tslab, 'kernel', '--config-path', file]
process.argv = [process.argv[0], 'tslab', ...process.argv.slice(2)];
require(path.join(repoRoot, 'node_modules', 'tslab', 'dist', 'main.js')).main();
