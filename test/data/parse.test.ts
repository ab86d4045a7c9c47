import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { loadCifar10, CIFAR10_CLASSES, DATA_LABELS } from '../../src/data/cifar10';
import { fillBatch } from '../../src/data/batches';
import { CIFAR10_MEAN, CIFAR10_STD } from '../../src/data/batches';
import { DataError } from '../../src/errors';
import { archiveEntries, tarGz, tempDir, tinyCifar, writeFolder } from './fixtures';

const quiet = { onProgress: () => {}, recordsPerBatch: 4 };

test('class names are the official ten, label 0 first', () => {
  assert.deepEqual(CIFAR10_CLASSES, ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
});

test('a folder with cifar-10-batches-bin/ parses labels and CHW images in file order', async () => {
  const data = tinyCifar(4, 7);
  const dir = tempDir();
  writeFolder(dir, data);
  const c = await loadCifar10({ ...quiet, source: dir });
  assert.equal(c.train.count, 20);
  assert.equal(c.test.count, 4);
  assert.deepEqual([...c.train.labels.subarray(0, 4)], [...data.labels.get('data_batch_1.bin')!]);
  assert.deepEqual([...c.train.labels.subarray(16, 20)], [...data.labels.get('data_batch_5.bin')!]);
  assert.deepEqual([...c.test.labels], [...data.labels.get('test_batch.bin')!]);
  assert.deepEqual(c.test.images, data.images.get('test_batch.bin'));
  assert.deepEqual(c.classNames, CIFAR10_CLASSES);
  assert.equal(c.label, DATA_LABELS.unverified);
  assert.equal(c.source, join(dir, 'cifar-10-batches-bin'));
});

test('pixel planes (R, G, B, row-major) come out as normalised NHWC', async () => {
  const data = tinyCifar(4, 3);
  const dir = tempDir();
  writeFolder(dir, data, false); // the .bin files directly in the folder
  const c = await loadCifar10({ ...quiet, source: dir });
  const out = new Float32Array(2 * 32 * 32 * 3);
  fillBatch(c.test, [2, 0], out, null);
  const raw = data.images.get('test_batch.bin')!;
  for (const [b, img] of [[0, 2], [1, 0]]) {
    for (const [y, x] of [[0, 0], [0, 31], [5, 17], [31, 0], [31, 31]]) {
      for (let ch = 0; ch < 3; ch++) {
        const v = raw[img * 3072 + ch * 1024 + y * 32 + x];
        const want = (v / 255 - CIFAR10_MEAN[ch]) / CIFAR10_STD[ch];
        assert.ok(Math.abs(out[((b * 32 + y) * 32 + x) * 3 + ch] - want) < 1e-6, `b${b} y${y} x${x} c${ch}`);
      }
    }
  }
});

test('a .tar.gz parses the same as the folder and reports its md5', async () => {
  const data = tinyCifar(4, 11);
  const dir = tempDir();
  writeFolder(dir, data);
  const archive = join(dir, 'tiny.tar.gz');
  writeFileSync(archive, tarGz(archiveEntries(data)));
  const a = await loadCifar10({ ...quiet, source: archive });
  const f = await loadCifar10({ ...quiet, source: dir });
  assert.deepEqual(a.train.labels, f.train.labels);
  assert.deepEqual(a.train.images, f.train.images);
  assert.deepEqual(a.test.images, f.test.images);
  assert.deepEqual(a.md5.files, f.md5.files);
  assert.match(a.md5.archive!, /^[0-9a-f]{32}$/);
  assert.equal(a.source, archive);
  const plain = join(dir, 'tiny.tar'); // an uncompressed tar reads the same
  writeFileSync(plain, gunzipSync(tarGz(archiveEntries(data))));
  assert.deepEqual((await loadCifar10({ ...quiet, source: plain })).test.images, f.test.images);
});

test('a file that is no archive at all is a clear error', async () => {
  const dir = tempDir();
  const bogus = join(dir, 'notes.tar.gz');
  writeFileSync(bogus, 'hello, this is not a tar file'.repeat(40));
  await assert.rejects(loadCifar10({ ...quiet, source: bogus }), /notes\.tar\.gz is not a \.tar\.gz or \.tar archive \(it does not start with a tar header\)/);
});

test('a truncated batch file is an error naming the file, expected and actual size', async () => {
  const data = tinyCifar(4, 5);
  data.files.set('data_batch_3.bin', data.files.get('data_batch_3.bin')!.subarray(0, 4 * 3073 - 100));
  const dir = tempDir();
  const root = writeFolder(dir, data);
  await assert.rejects(loadCifar10({ ...quiet, source: dir }), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.ok(err.message.includes(join(root, 'data_batch_3.bin')), err.message);
    assert.match(err.message, /should be 12,292 bytes \(4 records of 3,073 bytes\), but it is 12,192 bytes/);
    assert.match(err.message, /truncated or corrupt/);
    return true;
  });
});

test('a file one record short (a whole number of records) is still caught', async () => {
  const data = tinyCifar(4, 5);
  data.files.set('test_batch.bin', data.files.get('test_batch.bin')!.subarray(0, 3 * 3073));
  const dir = tempDir();
  writeFolder(dir, data);
  await assert.rejects(loadCifar10({ ...quiet, source: dir }), /test_batch\.bin should be 12,292 bytes .* but it is 9,219 bytes \(3 whole records\)/);
});

test('a label above 9 is corrupt data', async () => {
  const data = tinyCifar(4, 5);
  const bytes = Uint8Array.from(data.files.get('data_batch_2.bin')!);
  bytes[2 * 3073] = 12;
  data.files.set('data_batch_2.bin', bytes);
  const dir = tempDir();
  writeFolder(dir, data);
  await assert.rejects(loadCifar10({ ...quiet, source: dir }), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /data_batch_2\.bin has label 12 in record 2 \(byte 6146\), but labels must be 0-9: the file is corrupt/);
    return true;
  });
});

test('a truncated archive is an error naming the archive, the member and sizes', async () => {
  const data = tinyCifar(4, 5);
  const dir = tempDir();
  const full = tarGz(archiveEntries(data));
  const archive = join(dir, 'cut.tar.gz');
  writeFileSync(archive, full.subarray(0, Math.floor(full.length * 0.6)));
  await assert.rejects(loadCifar10({ ...quiet, source: archive }), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.ok(err.message.includes(archive), err.message);
    assert.match(err.message, new RegExp(`\\(${Math.floor(full.length * 0.6).toLocaleString('en-US')} bytes\\)`));
    assert.match(err.message, /truncated or corrupt/);
    assert.match(err.message, /ends inside member cifar-10-batches-bin\/\S+\.bin: [\d,]+ of 12,292 bytes/);
    return true;
  });
});

test('a folder or archive missing a batch file says which', async () => {
  const data = tinyCifar(4, 5);
  data.files.delete('data_batch_4.bin');
  const dir = tempDir();
  writeFolder(dir, data);
  await assert.rejects(loadCifar10({ ...quiet, source: dir }), /lacks data_batch_4\.bin \(it has: .*data_batch_3\.bin/);
  const archive = join(dir, 'partial.tar.gz');
  writeFileSync(archive, tarGz(archiveEntries(data)));
  await assert.rejects(loadCifar10({ ...quiet, source: archive }), /Archive .*partial\.tar\.gz lacks data_batch_4\.bin/);
});

test('a bad batches.meta.txt is reported', async () => {
  const data = tinyCifar(4, 5);
  const dir = tempDir();
  const root = writeFolder(dir, data);
  writeFileSync(join(root, 'batches.meta.txt'), 'cat\ndog\n');
  await assert.rejects(loadCifar10({ ...quiet, source: dir }), /batches\.meta\.txt should list 10 names, one per line, but it lists 2/);
});
