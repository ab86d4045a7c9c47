/**
 * How a CLI entry point ends: with the exit code its `main` returns, or, for a user error (a bad
 * flag, unreadable data, a full disk: ValueError/DataError), with that error as one line and exit
 * code 2 instead of a stack trace.
 */
import { isUserError } from '../errors';

export function runCli(main: (argv: string[]) => Promise<number>, argv = process.argv.slice(2)): void {
  main(argv).then(
    (code) => { process.exitCode = code; },
    (e) => {
      if (!isUserError(e)) throw e;
      console.error(`error: ${e.message}`);
      process.exitCode = 2;
    },
  );
}
