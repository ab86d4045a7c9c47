import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { describeCell, firstFailingCell, listNotebooks, NotebookJson, parseRunnerArgs } from '../../src/cli/notebook-runner';

const dir = path.resolve('notebooks');
const INDEX = '00-index';
const CHAPTERS = ['01-groupnorm-gamma', '02-sru', '03-cru', '04-scconv', '05-cifar10-training'];
const read = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as NotebookJson & { nbformat: number };
const src = (s: string | string[]) => (Array.isArray(s) ? s.join('') : s);

describe('committed notebooks', () => {
  const files = listNotebooks(dir);

  it('are the index and the five chapters, in order', () => {
    assert.deepEqual(files.map((f) => path.basename(f, '.ipynb')), [INDEX, ...CHAPTERS]);
  });

  it('the index links every chapter and the reports, and names what each chapter teaches and needs', () => {
    const md = read(path.join(dir, `${INDEX}.ipynb`)).cells.map((c) => src(c.source)).join('\n');
    for (const ch of CHAPTERS) assert.ok(md.includes(`](${ch}.ipynb)`), `the index does not link ${ch}`);
    assert.match(md, /you will learn \| prerequisites \| paper/);
    for (const report of fs.readdirSync('reports').filter((f) => f.endsWith('.md'))) {
      assert.ok(md.includes(`](../reports/${report})`), `the index does not link reports/${report}`);
    }
  });

  for (const file of files) {
    const name = path.basename(file);
    const nb = read(file);
    const chapter = CHAPTERS.indexOf(path.basename(file, '.ipynb'));

    it(`${name}: runs on the repo's tslab kernel and is committed without outputs`, () => {
      assert.equal(nb.nbformat, 4);
      assert.equal((nb.metadata?.kernelspec as { name: string }).name, 'tslab');
      for (const c of nb.cells.filter((c) => c.cell_type === 'code')) {
        assert.deepEqual(c.outputs, [], `a code cell of ${name} has outputs: run the notebooks to see them, commit sources only`);
        assert.equal((c as { execution_count?: unknown }).execution_count, null);
      }
    });

    if (chapter < 0) continue; // the index: markdown only

    it(`${name}: imports the library only through ./src/index (never a copy or a deep path)`, () => {
      const code = nb.cells.filter((c) => c.cell_type === 'code').map((c) => src(c.source)).join('\n');
      const relative = [...code.matchAll(/from\s+'(\.[^']*)'/g)].map((m) => m[1]);
      assert.ok(relative.length > 0, `${name} imports nothing from the library`);
      assert.deepEqual([...new Set(relative)], ['./src/index']);
    });

    it(`${name}: is a chapter: a title, the paper's equations, a Summary and Exercises`, () => {
      const md = nb.cells.filter((c) => c.cell_type === 'markdown').map((c) => src(c.source)).join('\n');
      assert.match(md, /^# \d\. /m);
      assert.match(md, /\\tag\{\d+\}/, `${name} shows none of the paper's numbered equations`);
      assert.match(md, /^## Summary/m);
      assert.match(md, /^## Exercises/m);
    });

    it(`${name}: links the index and its neighbours, and every exercise has a folded hint`, () => {
      const md = nb.cells.filter((c) => c.cell_type === 'markdown').map((c) => src(c.source)).join('\n');
      assert.ok(md.includes(`](${INDEX}.ipynb)`), `${name} does not link the index`);
      if (chapter > 0) assert.ok(md.includes(`](${CHAPTERS[chapter - 1]}.ipynb)`), `${name} does not link the previous chapter`);
      if (chapter < CHAPTERS.length - 1) assert.ok(md.includes(`](${CHAPTERS[chapter + 1]}.ipynb)`), `${name} does not link the next chapter`);
      const exercises = md.slice(md.indexOf('## Exercises'));
      const numbered = exercises.match(/^\d+\. /gm) ?? [];
      const hints = exercises.match(/<details><summary>Hint<\/summary>/g) ?? [];
      assert.ok(numbered.length > 0, `${name} has no numbered exercises`);
      assert.equal(hints.length, numbered.length, `${name}: ${numbered.length} exercises, ${hints.length} hints`);
    });
  }
});

describe('kernel spec', () => {
  it('starts the repo\'s tslab through launch.cjs, whose repo root holds package.json and tslab', () => {
    const kdir = path.resolve('jupyter', 'kernels', 'tslab');
    const spec = JSON.parse(fs.readFileSync(path.join(kdir, 'kernel.json'), 'utf8')) as { argv: string[]; language: string };
    assert.deepEqual(spec.argv, ['node', '{resource_dir}/launch.cjs', 'kernel', '--config-path', '{connection_file}']);
    assert.equal(spec.language, 'typescript');
    const root = path.resolve(kdir, '..', '..', '..');
    assert.ok(fs.existsSync(path.join(root, 'package.json')));
    assert.ok(fs.existsSync(path.join(root, 'node_modules', 'tslab', 'dist', 'main.js')), 'run npm install: tslab is a devDependency');
  });
});

describe('notebook runner', () => {
  it('parses its flags strictly', () => {
    const o = parseRunnerArgs(['--html', '--timeout', '90', '--out', 'x', '02'], {});
    assert.deepEqual(o, { html: true, timeoutSeconds: 90, outDir: 'x', only: ['02'], dir: 'notebooks' });
    assert.equal(parseRunnerArgs([], { SCCONV_QUICK: '1' }).timeoutSeconds, 300);
    assert.equal(parseRunnerArgs([], { SCCONV_QUICK: '0' }).timeoutSeconds, 3 * 3600);
    assert.throws(() => parseRunnerArgs(['--fast'], {}), /notebooks expects one of --html, --timeout, --out, --dir, but received --fast/);
    assert.throws(() => parseRunnerArgs(['--timeout', '-1'], {}), /--timeout expects a positive number of seconds, but received -1/);
    assert.throws(() => parseRunnerArgs(['--out'], {}), /--out expects a value, but received nothing/);
  });

  it('rejects a name filter that matches nothing, listing what exists', () => {
    assert.throws(() => listNotebooks(dir, ['no-such']), /matching \["no-such"\], but none of \[.*01-groupnorm-gamma\.ipynb/);
  });

  it('finds the failing cell from its stderr and prints its source and message', () => {
    const nb: NotebookJson = {
      cells: [
        { cell_type: 'markdown', source: '# t' },
        { cell_type: 'code', source: 'const a = 1;', outputs: [{ output_type: 'stream', name: 'stderr', text: 'Hi, looks like you are running TensorFlow.js\n' }] },
        { cell_type: 'code', source: ['const b = a +\n', '  c;'], outputs: [{ output_type: 'stream', name: 'stderr', text: ['2:3 - Cannot find name \'c\'.\n'] }] },
        { cell_type: 'code', source: 'x', outputs: [] },
      ],
    };
    assert.equal(firstFailingCell(nb), 2);
    const text = describeCell(nb, 2, 'failed');
    assert.match(text, /failed in cell 2:/);
    assert.match(text, /\| const b = a \+\n {2}\| {3}c;/);
    assert.match(text, /> 2:3 - Cannot find name 'c'\./);
    const thrown: NotebookJson = { cells: [{ cell_type: 'code', source: 'f()', outputs: [{ output_type: 'stream', name: 'stderr', text: 'ReferenceError: f is not defined\n    at evalmachine' }] }] };
    assert.equal(firstFailingCell(thrown), 0);
    assert.equal(firstFailingCell({ cells: [{ cell_type: 'code', source: 'ok', outputs: [] }] }), -1);
  });
});
