import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { CIFAR10_MD5, DATA_LABELS, detectLabel, loadCifar10 } from '../../src/data/cifar10';
import { DataError } from '../../src/errors';

const JPEG75_FILES: Record<string, string> = {
  'data_batch_1.bin': '5a5142663b2c457eb7edf61944cf14cd',
  'data_batch_2.bin': 'a03813b579934887e19fffa24f57e096',
  'data_batch_3.bin': '9338b8beb58f9f053aa7e7f6d2ca26a1',
  'data_batch_4.bin': '5d6a4b059305fb3437429da7d5355351',
  'data_batch_5.bin': 'b543e7acd6f6cab339de5ace5ae323ae',
  'test_batch.bin': '11e2161f06e495577766fe4411c65d23',
};
const OTHER = Object.fromEntries(Object.keys(JPEG75_FILES).map((n) => [n, 'f'.repeat(32)]));

test('the official archive md5 gives "CIFAR-10"', () => {
  assert.equal(DATA_LABELS.official, 'CIFAR-10');
  assert.equal(detectLabel(CIFAR10_MD5, OTHER), 'CIFAR-10');
});

test('the JPEG-75 files (from any archive or folder) give "CIFAR-10 (JPEG-75 copy)"', () => {
  assert.equal(detectLabel(undefined, JPEG75_FILES), 'CIFAR-10 (JPEG-75 copy)');
  assert.equal(detectLabel('0'.repeat(32), JPEG75_FILES), 'CIFAR-10 (JPEG-75 copy)');
});

test('anything else is "CIFAR-10 (unverified copy)"', () => {
  assert.equal(detectLabel(undefined, OTHER), 'CIFAR-10 (unverified copy)');
  assert.equal(detectLabel('0'.repeat(32), OTHER), 'CIFAR-10 (unverified copy)');
});

test('a JPEG-75 copy with one file changed is corrupt: error with the expected and actual md5', () => {
  const files = { ...JPEG75_FILES, 'data_batch_3.bin': 'e'.repeat(32) };
  assert.throws(() => detectLabel(undefined, files, (n) => `/x/${n}`), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /\/x\/data_batch_3\.bin has md5 e{32}, but the other files are from the JPEG-75 copy, whose data_batch_3\.bin has md5 9338b8beb58f9f053aa7e7f6d2ca26a1/);
    return true;
  });
});

const SHARED = '/work/shared/data/cifar-10-binary-jpeg75.tar.gz';

test('the shared JPEG-75 archive loads: counts, first labels, label string', { skip: !existsSync(SHARED) && `${SHARED} not present` }, async () => {
  const c = await loadCifar10({ source: SHARED, onProgress: () => {} });
  assert.equal(c.train.count, 50000);
  assert.equal(c.test.count, 10000);
  const names = (labels: Uint8Array) => Array.from(labels.subarray(0, 4), (l) => c.classNames[l]);
  assert.deepEqual(names(c.train.labels), ['frog', 'truck', 'truck', 'deer']);
  assert.deepEqual(names(c.test.labels), ['cat', 'ship', 'ship', 'airplane']);
  assert.equal(c.label, 'CIFAR-10 (JPEG-75 copy)');
  assert.equal(c.md5.archive, '9626eb7c36d96178a3ad3cb5c7bc7937');
  const perClass = new Array(10).fill(0);
  for (const l of c.test.labels) perClass[l]++;
  assert.deepEqual(perClass, new Array(10).fill(1000));
});
