/**
 * A streaming reader for .tar.gz (and plain .tar) archives over node:zlib (no native dependencies).
 *
 * It reads ustar/GNU/pax tar headers block by block and keeps only the members asked for, so a
 * 170 MB archive is read in one pass (and its md5 computed on the way) without extracting it.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DataError } from '../errors';

const BLOCK = 512;

export interface TarReadOptions {
  /** Keep the member with this path (its full path inside the archive)? */
  want: (path: string) => boolean;
  /** Called with compressed bytes read so far and the archive size. */
  onProgress?: (done: number, total: number) => void;
}

export interface TarContents {
  /** Wanted regular files, by full member path. */
  files: Map<string, Buffer>;
  /** md5 (hex) of the archive file itself. */
  md5: string;
  /** Size of the archive file in bytes. */
  size: number;
}

/** Does the file start with the gzip magic bytes? */
function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Read the wanted members of a .tar.gz (or .tar). Throws a DataError naming the archive if it is truncated or corrupt. */
export async function readTarGz(path: string, options: TarReadOptions): Promise<TarContents> {
  const size = statSync(path).size;
  const hash = createHash('md5');
  const parser = new TarParser(path, options.want);
  let read = 0;
  let parseError: unknown = null;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      read += chunk.length;
      options.onProgress?.(read, size);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      createReadStream(path, { highWaterMark: 1 << 20 }),
      tap,
      isGzip(path) ? createGunzip({ chunkSize: 1 << 20 }) : new PassThrough(),
      async (source: AsyncIterable<Buffer>) => {
        try {
          for await (const chunk of source) parser.push(chunk);
        } catch (err) {
          parseError = err; // the pipeline reports its own abort instead
          throw err;
        }
      },
    );
  } catch (err) {
    if (parseError instanceof DataError) throw parseError;
    if (err instanceof DataError) throw err;
    throw new DataError(
      `Archive ${path} (${size.toLocaleString('en-US')} bytes) could not be read as .tar.gz ` +
        `(${(err as Error).message}): it is truncated or corrupt. ${parser.where()}Delete it and download it again.`,
    );
  }
  parser.end();
  return { files: parser.files, md5: hash.digest('hex'), size };
}

interface Member {
  path: string;
  size: number;
  type: string;
  keep: boolean;
  data: Buffer | null;
  got: number;
}

/** A push parser for the tar stream (uncompressed bytes in, wanted members out). */
class TarParser {
  readonly files = new Map<string, Buffer>();
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private member: Member | null = null;
  private padding = 0;
  private longName: string | null = null;
  private finished = false;
  private members = 0;

  constructor(private readonly archive: string, private readonly want: (path: string) => boolean) {}

  /** "While reading member X (n of m bytes). " for error messages. */
  where(): string {
    const m = this.member;
    return m ? `It ends inside member ${m.path}: ${m.got.toLocaleString('en-US')} of ${m.size.toLocaleString('en-US')} bytes. ` : '';
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.finished) {
      if (this.member) {
        const m = this.member;
        const n = Math.min(m.size - m.got, chunk.length - i);
        if (m.data) chunk.copy(m.data, m.got, i, i + n);
        m.got += n;
        i += n;
        if (m.got === m.size) this.closeMember();
      } else if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - i);
        this.padding -= n;
        i += n;
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - i);
        chunk.copy(this.header, this.headerFill, i, i + n);
        this.headerFill += n;
        i += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.openMember();
        }
      }
    }
  }

  end(): void {
    if (this.member || this.headerFill > 0) {
      throw new DataError(
        `Archive ${this.archive} ends in the middle of the tar stream: it is truncated. ${this.where()}` +
          'Delete it and download it again.',
      );
    }
  }

  private openMember(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.finished = true; // end-of-archive marker
      return;
    }
    const stored = parseOctal(h.subarray(148, 156));
    let sum = 0;
    for (let k = 0; k < BLOCK; k++) sum += k >= 148 && k < 156 ? 32 : h[k];
    if (stored !== sum) {
      throw new DataError(this.members === 0
        ? `${this.archive} is not a .tar.gz or .tar archive (it does not start with a tar header). Point at the CIFAR-10 binary archive or its extracted folder.`
        : `Archive ${this.archive} has a tar header with a bad checksum (${stored}, computed ${sum}) after ${this.members} members: it is corrupt. Delete it and download it again.`);
    }
    this.members++;
    const type = String.fromCharCode(h[156] || 48);
    let path = cString(h.subarray(0, 100));
    const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? cString(h.subarray(345, 500)) : '';
    if (prefix) path = `${prefix}/${path}`;
    if (this.longName !== null) {
      path = this.longName;
      this.longName = null;
    }
    const size = parseSize(h.subarray(124, 136));
    const keep = (type === '0' || type === '7') && this.want(path);
    const meta = type === 'L' || type === 'x';
    this.member = { path, size, type, keep, data: keep || meta ? Buffer.allocUnsafe(size) : null, got: 0 };
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.closeMember();
  }

  private closeMember(): void {
    const m = this.member!;
    this.member = null;
    if (m.type === 'L') this.longName = cString(m.data!); // GNU long name of the next member
    else if (m.type === 'x') {
      const pax = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(m.data!.toString('utf8'));
      if (pax) this.longName = pax[1];
    } else if (m.keep) this.files.set(m.path, m.data!);
  }
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

function parseOctal(b: Buffer): number {
  const s = cString(b).trim();
  return s ? parseInt(s, 8) : 0;
}

/** Size field: octal text, or GNU base-256 (high bit set) for members over 8 GiB. */
function parseSize(b: Buffer): number {
  if (b[0] & 0x80) {
    let v = b[0] & 0x7f;
    for (let k = 1; k < b.length; k++) v = v * 256 + b[k];
    return v;
  }
  return parseOctal(b);
}
