/**
 * The CIFAR-10 *binary version* format (https://www.cs.toronto.edu/~kriz/cifar.html):
 * `cifar-10-batches-bin/` holds `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`,
 * 10,000 records each; a record is 1 label byte (0-9) then 3,072 pixel bytes: the 1,024 red,
 * then green, then blue values of a 32×32 image, row-major. `batches.meta.txt` names the classes.
 */
import { DataError } from '../errors';

export const IMAGE_SIZE = 32;
export const CHANNELS = 3;
/** Pixel bytes of one image: 3 planes of 32×32. */
export const IMAGE_BYTES = CHANNELS * IMAGE_SIZE * IMAGE_SIZE;
/** One record: a label byte and the image. */
export const RECORD_BYTES = 1 + IMAGE_BYTES;
/** Records in each official batch file. */
export const RECORDS_PER_BATCH = 10000;
export const NUM_CLASSES = 10;

export const BATCH_FOLDER = 'cifar-10-batches-bin';
export const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const TEST_FILE = 'test_batch.bin';
export const META_FILE = 'batches.meta.txt';
export const BATCH_FILES = [...TRAIN_FILES, TEST_FILE];

/** The class names of `batches.meta.txt`, label 0 first. */
export const CIFAR10_CLASSES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

/** One split: `count` images as official CHW planes (`images[i * 3072 + c * 1024 + y * 32 + x]`) and labels. */
export interface CifarSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** A batch file's bytes and the name to show in errors (a path, or `archive.tar.gz:member`). */
export interface BatchFile {
  where: string;
  bytes: Uint8Array;
}

/**
 * Join batch files into one split, checking every file has exactly `recordsPerBatch` records
 * and every label is 0-9. Throws a DataError naming the file otherwise: never silently wrong data.
 */
export function parseBatches(files: BatchFile[], recordsPerBatch = RECORDS_PER_BATCH): CifarSplit {
  const expected = recordsPerBatch * RECORD_BYTES;
  for (const f of files) {
    if (f.bytes.length !== expected) {
      const whole = f.bytes.length % RECORD_BYTES === 0 ? `${f.bytes.length / RECORD_BYTES} whole records` : 'not a whole number of records';
      throw new DataError(
        `CIFAR-10 batch file ${f.where} should be ${expected.toLocaleString('en-US')} bytes ` +
          `(${recordsPerBatch.toLocaleString('en-US')} records of ${RECORD_BYTES.toLocaleString('en-US')} bytes), ` +
          `but it is ${f.bytes.length.toLocaleString('en-US')} bytes (${whole}): the file is truncated or corrupt. ` +
          'Delete it and download or extract it again.',
      );
    }
  }
  const count = files.length * recordsPerBatch;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let n = 0;
  for (const f of files) {
    for (let r = 0; r < recordsPerBatch; r++, n++) {
      const at = r * RECORD_BYTES;
      const label = f.bytes[at];
      if (label >= NUM_CLASSES) {
        throw new DataError(
          `CIFAR-10 batch file ${f.where} has label ${label} in record ${r} (byte ${at}), ` +
            `but labels must be 0-${NUM_CLASSES - 1}: the file is corrupt. Delete it and download or extract it again.`,
        );
      }
      labels[n] = label;
      images.set(f.bytes.subarray(at + 1, at + RECORD_BYTES), n * IMAGE_BYTES);
    }
  }
  return { images, labels, count };
}

/** The ten class names of `batches.meta.txt` (blank lines ignored). */
export function parseClassNames(text: string, where: string): string[] {
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== NUM_CLASSES) {
    throw new DataError(
      `CIFAR-10 class-name file ${where} should list ${NUM_CLASSES} names, one per line, ` +
        `but it lists ${names.length}: ${JSON.stringify(names)}.`,
    );
  }
  return names;
}

/** Encode a split back into batch-file records (for writing small test fixtures and subsets). */
export function encodeRecords(images: Uint8Array, labels: ArrayLike<number>): Uint8Array {
  const count = labels.length;
  const out = new Uint8Array(count * RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    out[i * RECORD_BYTES] = labels[i];
    out.set(images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), i * RECORD_BYTES + 1);
  }
  return out;
}
