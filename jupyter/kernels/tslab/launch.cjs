// Starts the repo's own tslab (node_modules/tslab) with the repository root as
// the working directory, wherever Jupyter opened the notebook. tslab compiles
// a cell together with the files it imports and requires them all to live under
// its working directory, so notebooks import the library as './src/index'.
'use strict';
const path = require('path');

const repoRoot = path.resolve(__dirname, '..', '..', '..');
process.chdir(repoRoot);
// tslab's command line reads process.argv: [node, tslab, 'kernel', '--config-path', file]
process.argv = [process.argv[0], 'tslab', ...process.argv.slice(2)];
require(path.join(repoRoot, 'node_modules', 'tslab', 'dist', 'main.js')).main();
