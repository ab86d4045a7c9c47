/**
 * Execute the tutorial notebooks headlessly with the repo's tslab kernel (`npm run notebooks`).
 *
 * Each notebook runs in a fresh kernel through Jupyter's nbclient
 * (`jupyter/execute_notebook.py`), under a time limit. A failing cell is reported with its
 * source and its stderr: tslab's Jupyter error replies carry no message, the details are in
 * the cell's stderr stream. The run ends with the line `N passed, N failed`. With `--html`, each
 * executed notebook is also exported to a page that reads offline (equations by KaTeX: notebook-html.ts).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { ValueError } from '../errors';
import { notebookEnv } from '../viz/notebook-env';
import { offlinePage, readKatexAssets, type KatexAssets } from './notebook-html';
import { ProgressBar } from '../util/progress';

/** A notebook as nbformat 4 stores it (only the fields the runner reads). */
export interface NotebookJson {
  cells: NotebookCell[];
  metadata?: Record<string, unknown>;
}

export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  outputs?: NotebookOutput[];
}

export interface NotebookOutput {
  output_type: 'stream' | 'error' | 'display_data' | 'execute_result';
  name?: string;
  text?: string | string[];
  ename?: string;
  evalue?: string;
  traceback?: string[];
  data?: Record<string, unknown>;
}

export interface RunnerOptions {
  /** Export each executed notebook to HTML too. Defaults to false. */
  html: boolean;
  /** Seconds allowed for one notebook. Defaults to 300 in quick mode, 3 hours otherwise. */
  timeoutSeconds: number;
  /** Folder for the executed notebooks (and `html/`). Defaults to 'build/notebooks'. */
  outDir: string;
  /** Run only the notebooks whose file name contains one of these. Defaults to all. */
  only: string[];
  /** Folder holding the notebooks. Defaults to 'notebooks'. */
  dir: string;
}

const USAGE = 'npm run notebooks -- [--html] [--timeout SECONDS] [--out DIR] [--dir NOTEBOOKS] [NAME ...]';

/** Whether quick mode is on (`SCCONV_QUICK=1`): tiny data subsets and few steps. */
export function quickMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return notebookEnv(env).quick;
}

/** Parse the runner's command line (strict: unknown flags are errors). */
export function parseRunnerArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): RunnerOptions {
  const opts: RunnerOptions = {
    html: false,
    timeoutSeconds: quickMode(env) ? 300 : 3 * 3600,
    outDir: path.join('build', 'notebooks'),
    only: [],
    dir: 'notebooks',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v == null) throw new ValueError(`${a} expects a value, but received nothing. Usage: ${USAGE}`);
      return v;
    };
    if (a === '--html') opts.html = true;
    else if (a === '--timeout') {
      const t = Number(value());
      if (!(t > 0)) throw new ValueError(`--timeout expects a positive number of seconds, but received ${argv[i]}.`);
      opts.timeoutSeconds = t;
    } else if (a === '--out') opts.outDir = value();
    else if (a === '--dir') opts.dir = value();
    else if (a.startsWith('--')) throw new ValueError(`notebooks expects one of --html, --timeout, --out, --dir, but received ${a}. Usage: ${USAGE}`);
    else opts.only.push(a);
  }
  return opts;
}

/** The notebooks in `dir`, sorted, filtered by `only` (substrings of the file name). */
export function listNotebooks(dir: string, only: string[] = []): string[] {
  const all = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
  const picked = only.length ? all.filter((f) => only.some((o) => f.includes(o))) : all;
  if (only.length && picked.length === 0) {
    throw new ValueError(`notebooks expects names matching ${JSON.stringify(only)}, but none of ${JSON.stringify(all)} match.`);
  }
  return picked.map((f) => path.join(dir, f));
}

function text(source: string | string[] | undefined): string {
  return Array.isArray(source) ? source.join('') : source ?? '';
}

/** The index of the first code cell whose outputs show an error (an error output or stderr with a stack). */
export function firstFailingCell(nb: NotebookJson): number {
  return nb.cells.findIndex(
    (c) =>
      c.cell_type === 'code' &&
      (c.outputs ?? []).some(
        (o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr' && /(Error|error TS\d+|^\d+:\d+ - )/m.test(text(o.text))),
      ),
  );
}

/** What to print for a failed cell: its source, then its stderr and error outputs. */
export function describeCell(nb: NotebookJson, index: number, why: string): string {
  const cell = nb.cells[index];
  if (cell == null) return `  ${why} (no cell ${index})`;
  const code = text(cell.source).split('\n').map((l) => `  | ${l}`).join('\n');
  const errors = (cell.outputs ?? [])
    .filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'))
    .map((o) => (o.output_type === 'error' ? `${o.ename}: ${o.evalue}\n${(o.traceback ?? []).join('\n')}` : text(o.text)))
    .join('')
    // Keep the message and the first frames; the rest of a Node stack is tslab's internals.
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, 25)
    .map((l) => `  > ${l}`)
    .join('\n');
  return `  ${why} in cell ${index}:\n${code}\n${errors || '  > (no error output)'}`;
}

/** Python with Jupyter's nbclient: $SCCONV_PYTHON, else python3, else /usr/bin/python3 (Debian's). */
export function findPython(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.SCCONV_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import nbclient, nbformat, nbconvert'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  throw new ValueError(
    `notebooks expects a Python with Jupyter's nbclient and nbconvert (tried ${candidates.join(', ')}), but found none. ` +
      'On Debian: apt-get install jupyter-nbconvert python3-jupyter-client python3-ipykernel; or set SCCONV_PYTHON.',
  );
}

interface RunResult {
  ok: boolean;
  seconds: number;
  message: string;
}

function executeOne(py: string, repoRoot: string, input: string, output: string, opts: RunnerOptions, env: NodeJS.ProcessEnv): Promise<RunResult> {
  const nbIn = JSON.parse(fs.readFileSync(input, 'utf8')) as NotebookJson;
  const codeCells = nbIn.cells.map((c, i) => [c, i] as const).filter(([c]) => c.cell_type === 'code');
  const bar = new ProgressBar({ total: codeCells.length, label: `  ${path.basename(input)}`, unit: 'cell', plainEvery: 0.25 });
  const start = Date.now();
  let lastCell = -1;
  return new Promise((resolve) => {
    const child = spawn(py, [path.join(repoRoot, 'jupyter', 'execute_notebook.py'), input, output, '--timeout', String(opts.timeoutSeconds)], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as { cell?: number };
          if (typeof msg.cell === 'number') {
            lastCell = msg.cell;
            const done = codeCells.findIndex(([, i]) => i === msg.cell);
            if (done >= 0) bar.update(done);
          }
        } catch {
          // not one of our progress lines
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Safety net: nbclient enforces the limit itself; this catches a hung kernel start.
    const killer = setTimeout(() => child.kill('SIGKILL'), (opts.timeoutSeconds + 180) * 1000);
    child.on('close', (code) => {
      clearTimeout(killer);
      const seconds = (Date.now() - start) / 1000;
      if (code === 0) bar.update(codeCells.length);
      bar.finish();
      if (code === 0) return resolve({ ok: true, seconds, message: '' });
      let nbOut: NotebookJson | null = null;
      try {
        nbOut = JSON.parse(fs.readFileSync(output, 'utf8')) as NotebookJson;
      } catch {
        nbOut = null;
      }
      if (nbOut && code === 3) {
        return resolve({ ok: false, seconds, message: describeCell(nbOut, lastCell, `ran past the ${opts.timeoutSeconds} s limit`) });
      }
      if (nbOut && code === 4) {
        return resolve({ ok: false, seconds, message: describeCell(nbOut, lastCell, 'the kernel died (a crash in native code, or out of memory)') });
      }
      if (nbOut && code === 2) {
        const failing = firstFailingCell(nbOut);
        return resolve({ ok: false, seconds, message: describeCell(nbOut, failing >= 0 ? failing : lastCell, 'failed') });
      }
      const tail = stderr.trim().split('\n').slice(-15).map((l) => `  > ${l}`).join('\n');
      resolve({ ok: false, seconds, message: `  the executor exited with ${code ?? 'a signal'}:\n${tail}` });
    });
  });
}

/** nbconvert's page for `executed`, made readable offline (notebook-html.ts); an error message or null. */
function exportHtml(py: string, executed: string, htmlDir: string, env: NodeJS.ProcessEnv, katex: KatexAssets, notebooksDir: string): string | null {
  fs.mkdirSync(htmlDir, { recursive: true });
  const r = spawnSync(py, ['-m', 'nbconvert', '--to', 'html', '--output-dir', htmlDir, executed], { env, encoding: 'utf8' });
  if (r.status !== 0) return (r.stderr || '').trim().split('\n').slice(-5).join('\n');
  const page = path.join(htmlDir, `${path.basename(executed, '.ipynb')}.html`);
  fs.writeFileSync(page, offlinePage(fs.readFileSync(page, 'utf8'), katex, { notebooksDir, htmlDir }));
  return null;
}

/** Run the notebooks; returns the process exit code (0 when all passed). */
export async function runNotebooks(argv: string[], repoRoot = process.cwd()): Promise<number> {
  const opts = parseRunnerArgs(argv);
  const py = findPython();
  const notebooks = listNotebooks(path.resolve(repoRoot, opts.dir), opts.only);
  const katex = opts.html ? readKatexAssets(repoRoot) : null; // before any run: a missing package fails at once
  const outDir = path.resolve(repoRoot, opts.outDir);
  fs.mkdirSync(outDir, { recursive: true });
  const jupyterPath = [path.join(repoRoot, 'jupyter'), process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter);
  const env = { ...process.env, JUPYTER_PATH: jupyterPath };
  console.log(`Executing ${notebooks.length} notebook(s) with the tslab kernel${quickMode() ? ' in quick mode (SCCONV_QUICK)' : ''}, ${opts.timeoutSeconds} s limit each`);
  let passed = 0;
  let failed = 0;
  for (const nb of notebooks) {
    const name = path.basename(nb, '.ipynb');
    const executed = path.join(outDir, `${name}.ipynb`);
    fs.rmSync(executed, { force: true });
    const r = await executeOne(py, repoRoot, nb, executed, opts, env);
    let htmlNote = '';
    if (opts.html && fs.existsSync(executed)) {
      const err = exportHtml(py, executed, path.join(outDir, 'html'), env, katex!, path.resolve(repoRoot, opts.dir));
      if (err) r.ok = false;
      htmlNote = err ? `\n  HTML export failed:\n${err}` : `\n  HTML: ${path.relative(repoRoot, path.join(outDir, 'html', `${name}.html`))}`;
    }
    if (r.ok) passed++;
    else failed++;
    console.log(`${r.ok ? 'PASS' : 'FAIL'} ${name} (${r.seconds.toFixed(1)} s)${r.message ? '\n' + r.message : ''}${htmlNote}`);
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
