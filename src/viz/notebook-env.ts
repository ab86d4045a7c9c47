/**
 * Settings the notebooks share: quick mode and where CIFAR-10 is.
 *
 * `SCCONV_QUICK=1` shrinks every notebook to tiny data subsets and few steps (CI, a first look).
 * The data source is `SCCONV_DATA` when set, else the development copy
 * `../shared/data/cifar-10-binary-jpeg75.tar.gz` next to the repository when it exists, else
 * nothing (the loader then uses its cache `data/` and downloads the official archive).
 */
import * as fs from 'fs';
import * as path from 'path';

export interface NotebookEnv {
  /** Tiny subsets and few steps. */
  quick: boolean;
  /** What to pass to `loadCifar10({ source })`; undefined = the loader's default. */
  dataSource?: string;
}

/** The shared development copy of CIFAR-10, relative to the repository root. */
export const SHARED_CIFAR = path.join('..', 'shared', 'data', 'cifar-10-binary-jpeg75.tar.gz');

/** Read the notebook settings from `env`, resolving paths against `root` (the kernel's working directory). */
export function notebookEnv(env: NodeJS.ProcessEnv = process.env, root: string = process.cwd()): NotebookEnv {
  const q = env.SCCONV_QUICK;
  const quick = q != null && q !== '' && q !== '0' && q.toLowerCase() !== 'false';
  if (env.SCCONV_DATA) return { quick, dataSource: env.SCCONV_DATA };
  const shared = path.resolve(root, SHARED_CIFAR);
  return { quick, dataSource: fs.existsSync(shared) ? shared : undefined };
}
