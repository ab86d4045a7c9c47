/**
 * Download a file into a cache, atomically and resumably.
 *
 * Bytes go to `<dest>.part`; only a complete file with the right md5 is renamed to `<dest>`, so
 * `<dest>` is never half-written. A cut connection is retried with an HTTP Range request that
 * continues the `.part` file (a server that ignores Range makes it start again); if all retries
 * fail, the `.part` file stays and the next call continues from it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { dirname } from 'node:path';
import { DataError } from '../errors';
import { guardWrite, writeError } from '../util/write_errors';

/** Why a download failed: no network at all, a cut transfer, an HTTP error or a checksum mismatch. */
export type DownloadFailure = 'offline' | 'cut' | 'http' | 'md5';

export class DownloadError extends DataError {
  constructor(message: string, readonly reason: DownloadFailure) {
    super(message);
    this.name = 'DownloadError';
    Object.setPrototypeOf(this, DownloadError.prototype);
  }
}

export interface DownloadOptions {
  /** Expected md5 (hex) of the whole file; a mismatch deletes it and throws. */
  md5?: string;
  /** Called with bytes on disk so far and the total (0 while unknown). */
  onProgress?: (done: number, total: number) => void;
  /** Extra attempts after a cut connection, each resuming where the last stopped. Defaults to 3. */
  retries?: number;
  /** Wait before attempt k is k × this, in ms. Defaults to 1000. */
  retryDelayMs?: number;
  /** Give up on a connection silent for this long, in ms. Defaults to 30000. */
  timeoutMs?: number;
}

/** What to do when the cache cannot be written (full disk, read-only, no permission). */
const WRITE_FIX = 'Free space or make that folder writable, or download the archive elsewhere and pass --data PATH (or SCCONV_DATA=PATH).';

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

/** Download `url` to `dest` (see the module comment). Resolves when `dest` is complete and verified. */
export async function download(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const retries = options.retries ?? 3;
  const part = `${dest}.part`;
  guardWrite('download', dirname(dest), WRITE_FIX, () => mkdirSync(dirname(dest), { recursive: true }));
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(url, part, options);
      break;
    } catch (err) {
      if (!(err instanceof DownloadError) || err.reason !== 'cut' || attempt >= retries) throw err;
      await new Promise((r) => setTimeout(r, (attempt + 1) * (options.retryDelayMs ?? 1000)));
    }
  }
  if (options.md5) {
    const actual = await md5File(part);
    if (actual !== options.md5.toLowerCase()) {
      const size = statSync(part).size;
      unlinkSync(part);
      throw new DownloadError(
        `Downloaded ${url} has md5 ${actual} (${size.toLocaleString('en-US')} bytes), but it should have md5 ${options.md5}: ` +
          'the download is corrupt (deleted). Run again to download it afresh.',
        'md5',
      );
    }
  }
  guardWrite('download', dest, WRITE_FIX, () => renameSync(part, dest));
}

/** md5 (hex) of a file, streamed. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** One attempt: request the rest of `part` (or all of it) and append to it. */
async function fetchInto(url: string, part: string, options: DownloadOptions): Promise<void> {
  const have = existsSync(part) ? statSync(part).size : 0;
  const res = await get(url, have > 0 ? { Range: `bytes=${have}-` } : {}, options.timeoutMs ?? 30000);
  const status = res.statusCode ?? 0;
  if (status === 416 && have > 0) {
    res.resume(); // the .part file already holds everything; the md5 check decides
    return;
  }
  const resuming = status === 206 && new RegExp(`^bytes ${have}-`).test(String(res.headers['content-range'] ?? ''));
  if (status !== 200 && !resuming) {
    res.resume();
    throw new DownloadError(`Downloading ${url} failed: the server answered HTTP ${status} ${res.statusMessage ?? ''}.`.trim(), 'http');
  }
  const start = resuming ? have : 0;
  const length = Number(res.headers['content-length'] ?? -1);
  const total = length >= 0 ? start + length : 0;
  let done = start;
  options.onProgress?.(done, total);
  const file = createWriteStream(part, { flags: resuming ? 'a' : 'w' });
  const cut = () =>
    new DownloadError(
      `Downloading ${url} was cut after ${done.toLocaleString('en-US')} of ${total ? total.toLocaleString('en-US') : 'an unknown number of'} bytes; ` +
        `the part is kept in ${part}: run again to resume.`,
      'cut',
    );
  try {
    await new Promise<void>((resolve, reject) => {
      file.on('error', (err) => {
        reject(writeError(err, 'download', part, WRITE_FIX) ?? err); // first: destroying res reports a cut
        res.destroy(); // stop receiving: nothing more can be written
      });
      res.on('data', (chunk: Buffer) => {
        done += chunk.length;
        if (!file.write(chunk)) {
          res.pause();
          file.once('drain', () => res.resume());
        }
        options.onProgress?.(done, total);
      });
      res.on('end', () => (res.complete && (length < 0 || done === total) ? resolve() : reject(cut())));
      res.on('error', () => reject(cut()));
      res.on('aborted', () => reject(cut()));
      res.on('close', () => (res.complete ? undefined : reject(cut())));
    });
  } finally {
    if (!file.destroyed) await new Promise<void>((resolve) => file.end(() => resolve()));
  }
}

/** GET with redirects followed; network failures become DownloadErrors. */
function get(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 5): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.get(url, { headers: { 'User-Agent': 'scconv-tfjs', ...headers } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        resolve(get(new URL(res.headers.location, url).toString(), headers, timeoutMs, redirects - 1));
      } else resolve(res);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const offline = OFFLINE_CODES.has(err.code ?? '');
      reject(new DownloadError(`Cannot download ${url}: ${err.message}.`, offline ? 'offline' : 'cut'));
    });
  });
}
