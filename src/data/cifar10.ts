/**
 * Load CIFAR-10 (binary version) from a folder, a .tar.gz, or a download into the cache.
 *
 * Where the data comes from, in order:
 *   1. `source` (or env `SCCONV_DATA`): a folder (holding `cifar-10-batches-bin/` or the .bin files
 *      themselves) or a .tar.gz archive;
 *   2. the cache folder `dataDir` (default `data/`): `cifar-10-batches-bin/` or the archive;
 *   3. a download of the official archive into the cache (md5-checked, atomic, resumable).
 * Every result carries a `label` that says which copy it is: 'CIFAR-10' (the official bytes, by
 * md5), 'CIFAR-10 (JPEG-75 copy)' (the lossy copy for offline machines) or 'CIFAR-10 (unverified copy)'.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ProgressBar } from '../util/progress';
import { DataError } from '../errors';
import { download, DownloadError } from './download';
import {
  BATCH_FILES, BATCH_FOLDER, BatchFile, CIFAR10_CLASSES, CifarSplit, META_FILE, parseBatches, parseClassNames,
  RECORDS_PER_BATCH, TEST_FILE, TRAIN_FILES,
} from './format';
import { readTarGz } from './tar';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
/** md5 of the official archive, as published on the dataset's home page. */
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';

/** Labels for results, by which copy of the data produced them. */
export const DATA_LABELS = {
  official: 'CIFAR-10',
  jpeg75: 'CIFAR-10 (JPEG-75 copy)',
  unverified: 'CIFAR-10 (unverified copy)',
} as const;

/** The lossy JPEG-75 copy for offline machines (see its README): archive and per-file md5s. */
const JPEG75 = {
  archive: '9626eb7c36d96178a3ad3cb5c7bc7937',
  files: {
    'data_batch_1.bin': '5a5142663b2c457eb7edf61944cf14cd',
    'data_batch_2.bin': 'a03813b579934887e19fffa24f57e096',
    'data_batch_3.bin': '9338b8beb58f9f053aa7e7f6d2ca26a1',
    'data_batch_4.bin': '5d6a4b059305fb3437429da7d5355351',
    'data_batch_5.bin': 'b543e7acd6f6cab339de5ace5ae323ae',
    'test_batch.bin': '11e2161f06e495577766fe4411c65d23',
  } as Record<string, string>,
};

export { CIFAR10_CLASSES } from './format';
export type { CifarSplit } from './format';

export interface Cifar10 {
  train: CifarSplit;
  test: CifarSplit;
  classNames: string[];
  /** 'CIFAR-10', 'CIFAR-10 (JPEG-75 copy)' or 'CIFAR-10 (unverified copy)': put it beside every number. */
  label: string;
  /** Absolute path of the folder or archive read. */
  source: string;
  /** md5 of each batch file (and of the archive, when read from one). */
  md5: { archive?: string; files: Record<string, string> };
}

/** What a loader is doing, for progress displays. */
export interface DataProgress {
  phase: 'download' | 'read';
  done: number;
  total: number;
  file: string;
}

export interface LoadCifar10Options {
  /** A folder or .tar.gz to read. Defaults to env `SCCONV_DATA`, then the cache. */
  source?: string;
  /** The cache folder searched and downloaded into. Defaults to 'data'. */
  dataDir?: string;
  /** Download the official archive when nothing is found. Defaults to true. */
  download?: boolean;
  /** Progress callback. Defaults to a progress bar on stderr for downloads. */
  onProgress?: (p: DataProgress) => void;
  /** Records per batch file. Defaults to 10,000 (the official files); tests use tiny files. */
  recordsPerBatch?: number;
  /** Download from here instead (a mirror). Defaults to the official URL. */
  url?: string;
  /** md5 the download must have. Defaults to the official archive's. */
  md5?: string;
}

/** Load CIFAR-10; see the module comment for where it looks. */
export async function loadCifar10(options: LoadCifar10Options = {}): Promise<Cifar10> {
  const records = options.recordsPerBatch ?? RECORDS_PER_BATCH;
  const onProgress = options.onProgress ?? defaultProgress();
  const explicit = options.source ?? process.env.SCCONV_DATA;
  if (explicit) {
    const path = resolve(explicit);
    if (!existsSync(path)) {
      const who = options.source ? 'The data source' : 'SCCONV_DATA';
      throw new DataError(`${who} names ${path}, but nothing is there. ${HOW_TO_GET}`);
    }
    return statSync(path).isDirectory() ? readFolder(path, records) : readArchive(path, records, onProgress);
  }
  const dataDir = resolve(options.dataDir ?? 'data');
  const folder = [join(dataDir, BATCH_FOLDER), dataDir].find((d) => existsSync(join(d, TEST_FILE)));
  if (folder) return readFolder(folder, records);
  const archive = [CIFAR10_ARCHIVE, 'cifar-10-binary-jpeg75.tar.gz'].map((n) => join(dataDir, n)).find((p) => existsSync(p));
  if (archive) return readArchive(archive, records, onProgress);
  if (options.download === false) {
    throw new DataError(`CIFAR-10 was not found in ${dataDir}, and downloading is turned off. ${HOW_TO_GET}`);
  }
  const url = options.url ?? CIFAR10_URL;
  const dest = join(dataDir, CIFAR10_ARCHIVE);
  try {
    await download(url, dest, {
      md5: options.md5 ?? CIFAR10_MD5,
      onProgress: (done, total) => onProgress({ phase: 'download', done, total, file: dest }),
    });
  } catch (err) {
    if (err instanceof DownloadError && (err.reason === 'offline' || err.reason === 'http')) {
      throw new DataError(`CIFAR-10 was not found in ${dataDir} and could not be downloaded (${err.message}) ${HOW_TO_GET}`);
    }
    throw err;
  }
  return readArchive(dest, records, onProgress);
}

const HOW_TO_GET =
  `To get CIFAR-10: download ${CIFAR10_URL} (162 MiB, md5 ${CIFAR10_MD5}) and put it in data/ ` +
  `(as data/${CIFAR10_ARCHIVE}, or extracted as data/${BATCH_FOLDER}/), or point at a copy with ` +
  '--data PATH or SCCONV_DATA=PATH (a folder or a .tar.gz).';

/** A progress bar for downloads; reading takes a second or two and shows nothing. */
function defaultProgress(): (p: DataProgress) => void {
  let bar: ProgressBar | null = null;
  return (p) => {
    if (p.phase !== 'download') return;
    if (!bar) bar = new ProgressBar({ total: p.total, label: `Downloading ${basename(p.file)}`, format: 'bytes' });
    bar.update(p.done);
    if (p.total > 0 && p.done >= p.total) bar.finish();
  };
}

async function readFolder(path: string, records: number): Promise<Cifar10> {
  const root = existsSync(join(path, BATCH_FOLDER)) ? join(path, BATCH_FOLDER) : path;
  const missing = BATCH_FILES.filter((n) => !existsSync(join(root, n)));
  if (missing.length > 0) {
    throw new DataError(
      `CIFAR-10 folder ${root} lacks ${missing.join(', ')} (it has: ${readdirSync(root).join(', ') || 'nothing'}). ${HOW_TO_GET}`,
    );
  }
  const read = (n: string): BatchFile => ({ where: join(root, n), bytes: readFileSync(join(root, n)) });
  const meta = existsSync(join(root, META_FILE)) ? readFileSync(join(root, META_FILE), 'utf8') : null;
  return assemble(root, read, meta === null ? null : { text: meta, where: join(root, META_FILE) }, records, undefined);
}

async function readArchive(path: string, records: number, onProgress: (p: DataProgress) => void): Promise<Cifar10> {
  const wanted = new Set([...BATCH_FILES, META_FILE]);
  const tar = await readTarGz(path, {
    want: (member) => wanted.has(basename(member)),
    onProgress: (done, total) => onProgress({ phase: 'read', done, total, file: path }),
  });
  const byName = new Map<string, { member: string; bytes: Buffer }>();
  for (const [member, bytes] of tar.files) byName.set(basename(member), { member, bytes });
  const missing = BATCH_FILES.filter((n) => !byName.has(n));
  if (missing.length > 0) {
    throw new DataError(
      `Archive ${path} lacks ${missing.join(', ')} (expected the official layout ${BATCH_FOLDER}/*.bin). ${HOW_TO_GET}`,
    );
  }
  const read = (n: string): BatchFile => ({ where: `${path}:${byName.get(n)!.member}`, bytes: byName.get(n)!.bytes });
  const meta = byName.get(META_FILE);
  return assemble(path, read, meta ? { text: meta.bytes.toString('utf8'), where: `${path}:${meta.member}` } : null, records, tar.md5);
}

function assemble(
  source: string,
  read: (name: string) => BatchFile,
  meta: { text: string; where: string } | null,
  records: number,
  archiveMd5: string | undefined,
): Cifar10 {
  const files = BATCH_FILES.map(read);
  const md5: Record<string, string> = {};
  BATCH_FILES.forEach((n, i) => (md5[n] = createHash('md5').update(files[i].bytes).digest('hex')));
  const train = parseBatches(files.slice(0, TRAIN_FILES.length), records);
  const test = parseBatches(files.slice(TRAIN_FILES.length), records);
  const label = detectLabel(archiveMd5, md5, (n) => read(n).where);
  const classNames = meta ? parseClassNames(meta.text, meta.where) : CIFAR10_CLASSES.slice();
  return { train, test, classNames, label, source, md5: { archive: archiveMd5, files: md5 } };
}

/**
 * Which copy is this? The official archive md5 → 'CIFAR-10'; all six JPEG-75 file md5s → the
 * JPEG-75 label; some but not all of them → a corrupt JPEG-75 copy (error); otherwise unverified.
 */
export function detectLabel(
  archiveMd5: string | undefined,
  fileMd5: Record<string, string>,
  where: (name: string) => string = (n) => n,
): string {
  if (archiveMd5 === CIFAR10_MD5) return DATA_LABELS.official;
  if (archiveMd5 === JPEG75.archive) return DATA_LABELS.jpeg75;
  const bad = BATCH_FILES.filter((n) => fileMd5[n] !== JPEG75.files[n]);
  if (bad.length === 0) return DATA_LABELS.jpeg75;
  if (bad.length < BATCH_FILES.length) {
    const n = bad[0];
    throw new DataError(
      `CIFAR-10 batch file ${where(n)} has md5 ${fileMd5[n]}, but the other files are from the JPEG-75 copy, ` +
        `whose ${n} has md5 ${JPEG75.files[n]}: the file is corrupt. Delete it and extract the archive again.`,
    );
  }
  return DATA_LABELS.unverified;
}
