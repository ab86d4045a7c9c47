/**
 * A progress bar for long jobs (downloads, epochs, sweeps).
 *
 * On a terminal it redraws one line in place: label, percent, bar, done/total, rate and ETA.
 * Anywhere else (a log file, CI, a notebook cell) it prints a plain line only every
 * `plainEvery` of the way (10% by default) and at the end, so logs stay short.
 */

/** Where a bar writes: `process.stderr` by default; tests pass a fake. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  /** Work units in the whole job (bytes, images, batches). 0 or less means unknown: no percent or ETA. */
  total: number;
  /** Text in front of the bar. Defaults to ''. */
  label?: string;
  /** Name of one unit, shown with the rate ('img', 'batch'). Ignored for `format: 'bytes'`. Defaults to 'it'. */
  unit?: string;
  /** 'count' shows 1.2k; 'bytes' shows 12.3 MiB. Defaults to 'count'. */
  format?: 'count' | 'bytes';
  /** Output stream. Defaults to `process.stderr`. */
  stream?: ProgressStream;
  /** Force the terminal (redrawing) or plain-line style. Defaults to `stream.isTTY`. */
  tty?: boolean;
  /** Fraction of the job between two plain lines. Defaults to 0.1. */
  plainEvery?: number;
  /** Least time between two terminal redraws, in ms. Defaults to 100. */
  redrawMs?: number;
  /** Clock in ms (tests pass a fake one). Defaults to `Date.now`. */
  now?: () => number;
}

/** 1234 → '1.2k', 12 → '12', 0.5 → '0.50'. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  if (a >= 10 || Number.isInteger(n)) return n.toFixed(0);
  return n.toFixed(2);
}

/** 1536 → '1.5 KiB'. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v.toFixed(0)} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Seconds → '42s', '3:07', '1:02:03'. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class ProgressBar {
  readonly total: number;
  private readonly label: string;
  private readonly unit: string;
  private readonly format: 'count' | 'bytes';
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly plainEvery: number;
  private readonly redrawMs: number;
  private readonly now: () => number;
  private start: number;
  /** Units done before the rate clock started (see `update`). */
  private startDone = 0;
  private updated = false;
  private done = 0;
  private lastDraw = -Infinity;
  private nextPlain: number;
  private lastWidth = 0;
  private finished = false;

  constructor(options: ProgressBarOptions) {
    this.total = options.total;
    this.label = options.label ?? '';
    this.unit = options.unit ?? 'it';
    this.format = options.format ?? 'count';
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    this.plainEvery = options.plainEvery ?? 0.1;
    this.redrawMs = options.redrawMs ?? 100;
    this.now = options.now ?? Date.now;
    this.start = this.now();
    this.nextPlain = this.plainEvery;
  }

  /** Advance by `n` units. `note` is shown at the end of the line (a loss, a file name). */
  tick(n = 1, note?: string): void {
    this.update(this.done + n, note);
  }

  /** Set the units done so far. */
  update(done: number, note?: string): void {
    if (this.finished) return;
    const t = this.now();
    if (!this.updated && t - this.start < 100) {
      // A bar made lazily on the first progress event (`bar ??= new ProgressBar(…); bar.update(seen)`):
      // what that event reports was done before the bar existed, so the rate starts counting here.
      this.startDone = done;
      this.start = t;
    }
    this.updated = true;
    this.done = done;
    if (this.tty) {
      if (t - this.lastDraw < this.redrawMs) return;
      this.lastDraw = t;
      this.redraw(this.line(t, note));
    } else if (this.total > 0 && done / this.total >= this.nextPlain && done < this.total) {
      while (done / this.total >= this.nextPlain) this.nextPlain += this.plainEvery;
      this.stream.write(this.line(t, note) + '\n');
    }
  }

  /** Print the final line (always) and stop drawing. */
  finish(note?: string): void {
    if (this.finished) return;
    const line = this.line(this.now(), note, true);
    if (this.tty) this.redraw(line);
    this.stream.write(this.tty ? '\n' : line + '\n');
    this.finished = true;
  }

  /** The text of the current line, without drawing it (for tests and custom renderers). */
  line(t = this.now(), note?: string, final = false): string {
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed > 0.05 ? (this.done - this.startDone) / elapsed : NaN; // NaN: not measurable yet
    const amount = (n: number) => (this.format === 'bytes' ? formatBytes(n) : formatCount(n));
    const rateText = !Number.isFinite(rate) ? `? ${this.format === 'bytes' ? 'B' : this.unit}/s`
      : this.format === 'bytes' ? `${formatBytes(rate)}/s` : `${formatCount(rate)} ${this.unit}/s`;
    const parts: string[] = [];
    if (this.label) parts.push(this.label);
    if (this.total > 0) {
      const frac = Math.min(1, Math.max(0, this.done / this.total));
      parts.push(`${(100 * frac).toFixed(0).padStart(3)}%`);
      if (this.tty) parts.push(`|${bar(frac, 20)}|`);
      parts.push(`${amount(this.done)}/${amount(this.total)}`);
    } else {
      parts.push(amount(this.done));
    }
    parts.push(rateText);
    if (final) parts.push(`in ${formatDuration(elapsed)}`);
    else if (this.total > 0 && rate > 0) parts.push(`ETA ${formatDuration((this.total - this.done) / rate)}`);
    if (note) parts.push(note);
    return parts.join(' ');
  }

  private redraw(line: string): void {
    const columns = this.stream.columns ?? 120;
    const text = line.length > columns - 1 ? line.slice(0, columns - 1) : line;
    const pad = this.lastWidth > text.length ? ' '.repeat(this.lastWidth - text.length) : '';
    this.lastWidth = text.length;
    this.stream.write('\r' + text + pad);
  }
}

function bar(frac: number, width: number): string {
  const full = Math.round(frac * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}
