/**
 * Screenshots of the exported notebook pages (`npm run notebooks -- --html`), taken with headless
 * Chromium over the DevTools protocol, and a check of what a reader sees on each page.
 *
 *   node --experimental-websocket --import tsx scripts/notebook_screenshots.ts [--html DIR] [--shots DIR] [--previews DIR]
 *
 * Usually run through scripts/notebook_screenshots.sh, which exports the pages first.
 *
 * For every page in --html (default build/notebooks/html):
 * - checks: no equation left as raw TeX ($$…$$, $…$, \tag) outside code, no KaTeX error, every
 *   plotly figure drawn, nothing in the error colours (the stderr banner is grey text); a failed
 *   check is printed and makes the exit code 1;
 * - the whole page as 1200×1600 tiles, to look at: --shots (default build/notebooks/screenshots)/NAME/NN.png;
 * - a preview for GitHub, --previews (default notebooks/figures)/NAME.png: the page's section headings
 *   and outputs (figures, tables, printed lines) without the code and prose, 1000 px wide. Not for the
 *   index, which GitHub renders itself (it has no outputs).
 *
 * Needs `chromium` on the PATH (or $CHROMIUM) and Node ≥ 20 with --experimental-websocket.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

interface Options {
  html: string;
  shots: string;
  previews: string;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { html: 'build/notebooks/html', shots: 'build/notebooks/screenshots', previews: 'notebooks/figures' };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '') as keyof Options;
    if (!(key in opts) || argv[i + 1] == null) {
      throw new Error(`notebook_screenshots expects --html DIR, --shots DIR or --previews DIR, but received ${argv[i]}.`);
    }
    opts[key] = argv[++i];
  }
  return opts;
}

/** A minimal DevTools-protocol client over one WebSocket (flat sessions). */
class Cdp {
  private next = 0;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private waiters: { method: string; resolve: () => void }[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev: MessageEvent) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string };
      if (msg.id != null) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method) {
        this.waiters = this.waiters.filter((w) => (w.method === msg.method ? (w.resolve(), false) : true));
      }
    });
  }

  static open(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.addEventListener('open', () => resolve(new Cdp(ws)));
      ws.addEventListener('error', () => reject(new Error(`notebook_screenshots could not connect to Chromium at ${url}.`)));
    });
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    const id = ++this.next;
    this.ws.send(JSON.stringify({ id, method, params, sessionId }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  event(method: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ method, resolve }));
  }

  close(): void {
    this.ws.close();
  }
}

function startChromium(): Promise<{ proc: ChildProcess; url: string; profile: string }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'scconv-chromium-'));
  const proc = spawn(process.env.CHROMIUM ?? 'chromium', [
    '--headless', '--disable-gpu', '--no-sandbox', '--hide-scrollbars', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) resolve({ proc, url: m[1], profile });
    });
    proc.on('error', (e) => reject(new Error(`notebook_screenshots expects chromium on the PATH (or $CHROMIUM), but it did not start: ${e.message}`)));
    proc.on('exit', (code) => reject(new Error(`chromium exited with ${code} before it listened:\n${err.slice(-2000)}`)));
  });
}

/** What the page shows, measured in the browser (a string of JavaScript evaluated there). */
const INSPECT = `(() => {
  const plots = [...document.querySelectorAll('.scconv-plot')];
  const raw = [];
  for (const cell of document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown, [data-mime-type="text/markdown"]')) {
    const copy = cell.cloneNode(true);
    copy.querySelectorAll('.katex, code, pre').forEach((e) => e.remove());
    const m = copy.textContent.match(/\\$\\$[^]{0,40}|\\\\tag\\{|\\$[^$\\s][^$]{0,40}\\$/);
    if (m) raw.push(m[0]);
  }
  const red = [...document.querySelectorAll('.jp-OutputArea-output')].filter((e) => {
    const c = getComputedStyle(e);
    const rgb = (s) => (s.match(/\\d+/g) || []).map(Number);
    const [r, g, b] = rgb(c.backgroundColor);
    return (r > 200 && r - g > 20 && r - b > 20) || e.querySelector('.ansi-red-fg, .ansi-red-intense-fg');
  }).map((e) => e.textContent.slice(0, 80));
  return {
    height: document.documentElement.scrollHeight,
    plots: plots.length,
    undrawn: plots.filter((p) => !p.querySelector('.main-svg')).map((p) => p.id),
    tables: document.querySelectorAll('.jp-OutputArea-output figure table').length,
    equations: document.querySelectorAll('.katex').length,
    katexErrors: [...document.querySelectorAll('.katex-error')].map((e) => e.textContent.slice(0, 60)),
    rawMath: raw,
    redOutputs: red,
  };
})()`;

/** Styles that leave the section headings and the outputs, for a preview. */
const PREVIEW_CSS = `
.jp-CodeCell .jp-Cell-inputWrapper, .jp-InputPrompt, .jp-OutputPrompt, .jp-Collapser,
[data-mime-type="application/vnd.jupyter.stderr"], .jp-CodeCell.jp-mod-noOutputs, .modebar-container { display: none !important; }
.jp-MarkdownCell .jp-RenderedMarkdown > :not(h1):not(h2) { display: none !important; }
.jp-MarkdownCell:not(:has(h1, h2)) { display: none !important; }
.jp-Cell { padding: 2px 8px !important; }
body { padding: 0 !important; }`;

type Inspection = { height: number; plots: number; undrawn: string[]; tables: number; equations: number; katexErrors: string[]; rawMath: string[]; redOutputs: string[] };

async function inspect(cdp: Cdp, session: string): Promise<Inspection> {
  const r = await cdp.send('Runtime.evaluate', { expression: INSPECT, returnByValue: true }, session);
  return r.result.value as Inspection;
}

async function capture(cdp: Cdp, session: string, file: string, clip: { x: number; y: number; width: number; height: number }): Promise<number> {
  const shot = await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { ...clip, scale: 1 } }, session);
  const bytes = Buffer.from(shot.data as string, 'base64');
  fs.writeFileSync(file, bytes);
  return bytes.length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function shootPage(cdp: Cdp, page: string, opts: Options): Promise<string[]> {
  const name = path.basename(page, '.html');
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId: s } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  await cdp.send('Page.enable', {}, s);
  await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1200, height: 1600, deviceScaleFactor: 1, mobile: false }, s);
  const loaded = cdp.event('Page.loadEventFired');
  await cdp.send('Page.navigate', { url: `file://${path.resolve(page)}` }, s);
  await loaded;
  let seen = await inspect(cdp, s);
  for (let waited = 0; seen.undrawn.length > 0 && waited < 60_000; waited += 500) {
    await sleep(500);
    seen = await inspect(cdp, s);
  }
  await sleep(1000); // fonts and the last relayout
  seen = await inspect(cdp, s);

  const problems = [
    ...seen.rawMath.map((m) => `raw TeX left in the page: ${JSON.stringify(m)}`),
    ...seen.katexErrors.map((m) => `KaTeX could not render ${JSON.stringify(m)}`),
    ...seen.undrawn.map((id) => `plotly figure ${id} not drawn`),
    ...seen.redOutputs.map((t) => `output in error colours: ${JSON.stringify(t)}`),
  ];

  const dir = path.join(opts.shots, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const tiles: string[] = [];
  for (let y = 0, i = 1; y < seen.height; y += 1600, i++) {
    const file = path.join(dir, `${String(i).padStart(2, '0')}.png`);
    await capture(cdp, s, file, { x: 0, y, width: 1200, height: Math.min(1600, seen.height - y) });
    tiles.push(file);
  }

  let preview = '';
  if (seen.plots + seen.tables > 0) {
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1000, height: 1600, deviceScaleFactor: 1, mobile: false }, s);
    await cdp.send('Runtime.evaluate', { expression: `document.head.insertAdjacentHTML('beforeend', ${JSON.stringify(`<style>${PREVIEW_CSS}</style>`)}); window.dispatchEvent(new Event('resize'));` }, s);
    await sleep(1500); // plotly's responsive relayout
    const height = (await inspect(cdp, s)).height;
    fs.mkdirSync(opts.previews, { recursive: true });
    const file = path.join(opts.previews, `${name}.png`);
    const bytes = await capture(cdp, s, file, { x: 0, y: 0, width: 1000, height });
    preview = `; preview ${file} (${(bytes / 1024).toFixed(0)} KB, 1000×${height})`;
  }
  await cdp.send('Target.closeTarget', { targetId });
  console.log(`${problems.length ? 'FAIL' : 'OK  '} ${name}: ${seen.equations} equations rendered, ${seen.plots} figures drawn, ${seen.tables} tables; ` +
    `${tiles.length} tiles in ${dir}${preview}`);
  for (const p of problems) console.log(`     ${p}`);
  return problems;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  if (typeof WebSocket === 'undefined') throw new Error('notebook_screenshots expects a global WebSocket, but there is none: run node with --experimental-websocket (Node 20) or use Node ≥ 22.');
  const pages = fs.existsSync(opts.html) ? fs.readdirSync(opts.html).filter((f) => f.endsWith('.html')).sort() : [];
  if (pages.length === 0) throw new Error(`notebook_screenshots expects exported pages in ${opts.html}, but found none: run npm run notebooks -- --html first.`);
  const chrome = await startChromium();
  const cdp = await Cdp.open(chrome.url);
  let failed = 0;
  try {
    for (const page of pages) if ((await shootPage(cdp, path.join(opts.html, page), opts)).length) failed++;
  } finally {
    cdp.close();
    const exited = new Promise((resolve) => chrome.proc.once('exit', resolve));
    chrome.proc.kill();
    await exited; // it writes into its profile until it exits
    fs.rmSync(chrome.profile, { recursive: true, force: true, maxRetries: 3 });
  }
  console.log(`${pages.length - failed} pages clean, ${failed} with problems`);
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(e.message);
  process.exit(2);
});
