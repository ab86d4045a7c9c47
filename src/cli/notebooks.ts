/**
 * `npm run notebooks -- [--html] [--timeout SECONDS] [--out DIR] [NAME ...]`
 *
 * Executes notebooks/*.ipynb with the repo's tslab kernel and prints `N passed, N failed`.
 * `SCCONV_QUICK=1` runs them on tiny data subsets; `--html` also exports build/notebooks/html/.
 */
import { runNotebooks } from './notebook-runner';

runNotebooks(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.name === 'ValueError' ? err.message : err);
    process.exit(2);
  },
);
