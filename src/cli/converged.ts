/**
 * npm run converged: write reports/converged.md and reports/converged.html from the run folders in
 * reports/converged/runs/, the longer runs of the same recipe in reports/converged/probes/, and the
 * notes in reports/converged/notes.md (paragraphs separated by a blank line; the first, in bold,
 * says what the runs show and what they do not).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeConvergedReport } from '../experiments/converged';

const NOTES = join('reports', 'converged', 'notes.md');

export function main(): number {
  const notes = existsSync(NOTES) ? readFileSync(NOTES, 'utf8').split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean) : [];
  const runs = writeConvergedReport({ notes });
  console.log(`reports/converged.md, reports/converged.html: ${runs.length} runs (${runs.map((r) => `${r.id} ${r.metrics.length}/${r.config.epochs}`).join(', ')})`);
  return 0;
}

if (process.argv[1] && /cli[\\/]converged\.ts$/.test(process.argv[1])) process.exitCode = main();
