/**
 * The folder of one of this package's own modules, read from a stack trace: works under tsx, tslab
 * and plain node alike, where `import.meta` (not in TypeScript 5.0's tslab) and `__dirname` (not in
 * ES modules) are not both available. Call it from inside the module named by `basename`.
 */
import * as path from 'node:path';

export function moduleFolder(basename: string): string | undefined {
  const file = new RegExp(`(?:file://)?(/[^():]*[\\\\/]${basename}\\.[cm]?[jt]s)`);
  for (const line of (new Error().stack ?? '').split('\n')) {
    const m = line.match(file);
    if (m) return path.dirname(decodeURIComponent(m[1]));
  }
  return undefined;
}
