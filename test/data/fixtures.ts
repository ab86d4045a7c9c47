/**
 * Tiny CIFAR-10 data in the official binary format, generated for tests: a folder of .bin files
 * and a .tar.gz of it (a minimal ustar writer), so no test needs the real 170 MB archive.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BATCH_FILES, CIFAR10_CLASSES, encodeRecords, IMAGE_BYTES, META_FILE } from '../../src/data/format';
import { Rng } from '../../src/data/rng';

export interface TinyCifar {
  /** Batch file name → bytes (records). */
  files: Map<string, Uint8Array>;
  /** Labels and CHW images per file, in record order. */
  labels: Map<string, Uint8Array>;
  images: Map<string, Uint8Array>;
  records: number;
}

/** Random images and labels, `records` per batch file, fully determined by `seed`. */
export function tinyCifar(records = 4, seed = 1): TinyCifar {
  const rng = new Rng(seed);
  const out: TinyCifar = { files: new Map(), labels: new Map(), images: new Map(), records };
  for (const name of BATCH_FILES) {
    const labels = Uint8Array.from({ length: records }, () => rng.int(10));
    const images = Uint8Array.from({ length: records * IMAGE_BYTES }, () => rng.int(256));
    out.labels.set(name, labels);
    out.images.set(name, images);
    out.files.set(name, encodeRecords(images, labels));
  }
  return out;
}

export function tempDir(prefix = 'scconv-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Write the batch files (and batches.meta.txt) into `dir/cifar-10-batches-bin/` (or `dir` itself). */
export function writeFolder(dir: string, data: TinyCifar, nested = true): string {
  const root = nested ? join(dir, 'cifar-10-batches-bin') : dir;
  mkdirSync(root, { recursive: true });
  for (const [name, bytes] of data.files) writeFileSync(join(root, name), bytes);
  writeFileSync(join(root, META_FILE), CIFAR10_CLASSES.join('\n') + '\n\n');
  return root;
}

/** A .tar.gz holding `cifar-10-batches-bin/<name>` for each entry. */
export function tarGz(entries: Map<string, Uint8Array | string>, folder = 'cifar-10-batches-bin'): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of entries) {
    const data = Buffer.from(content as Uint8Array);
    const h = Buffer.alloc(512);
    h.write(`${folder}/${name}`, 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0001750\0', 108);
    h.write('0001750\0', 116);
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('14530000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0' + '00', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The archive entries of a tiny dataset, with the class-name file. */
export function archiveEntries(data: TinyCifar): Map<string, Uint8Array | string> {
  const entries = new Map<string, Uint8Array | string>([[META_FILE, CIFAR10_CLASSES.join('\n') + '\n']]);
  for (const [name, bytes] of data.files) entries.set(name, bytes);
  return entries;
}
