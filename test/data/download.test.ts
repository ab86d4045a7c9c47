import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { download } from '../../src/data/download';
import { loadCifar10, CIFAR10_URL, DATA_LABELS } from '../../src/data/cifar10';
import { DataError } from '../../src/errors';
import { archiveEntries, tarGz, tempDir, tinyCifar } from './fixtures';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/**
 * Serve `body` on 127.0.0.1. `cutFirst`: the first full (non-Range) response sends half the
 * bytes and holds the connection until `cut()` drops it (the tests call it once the client has
 * received that half, so the cut point does not depend on timing). `ignoreRange`: always answer
 * 200 with everything.
 */
async function serve(body: Buffer, opts: { cutFirst?: number; ignoreRange?: boolean } = {}) {
  const requests: { range?: string }[] = [];
  let cuts = opts.cutFirst ?? 0;
  let held: ServerResponse | null = null;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const range = req.headers.range;
    requests.push({ range });
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (m && !opts.ignoreRange) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length });
    if (cuts > 0) {
      cuts--;
      res.write(body.subarray(0, body.length >> 1));
      held = res;
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cifar-10-binary.tar.gz`;
  const cut = () => {
    held?.socket?.destroy();
    held = null;
  };
  return { url, requests, cut, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
/** onProgress that cuts the connection once the client holds the first half. */
const cutAtHalf = (s: { cut: () => void }) => (done: number) => { if (done >= payload.length >> 1) s.cut(); };

test('downloads to the cache atomically, checking the md5, with progress', async () => {
  const s = await serve(payload);
  const dest = join(tempDir(), 'sub', 'file.bin');
  const seen: number[] = [];
  await download(s.url, dest, { md5: md5(payload), onProgress: (done, total) => (assert.equal(total, payload.length), seen.push(done)) });
  await s.close();
  assert.deepEqual(readFileSync(dest), payload);
  assert.ok(!existsSync(dest + '.part'));
  assert.equal(seen[seen.length - 1], payload.length);
});

test('a cut transfer resumes with an HTTP Range request', async () => {
  const s = await serve(payload, { cutFirst: 1 });
  const dest = join(tempDir(), 'file.bin');
  await download(s.url, dest, { md5: md5(payload), retryDelayMs: 0, onProgress: cutAtHalf(s) });
  await s.close();
  assert.deepEqual(readFileSync(dest), payload);
  assert.equal(s.requests.length, 2);
  assert.equal(s.requests[0].range, undefined);
  assert.equal(s.requests[1].range, `bytes=${payload.length >> 1}-`);
});

test('a cut with no retries left keeps the .part file; the next call continues it', async () => {
  const s = await serve(payload, { cutFirst: 1 });
  const dest = join(tempDir(), 'file.bin');
  await assert.rejects(download(s.url, dest, { md5: md5(payload), retries: 0, onProgress: cutAtHalf(s) }), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.match(err.message, /was cut after 150,000 of 300,000 bytes; the part is kept in .*file\.bin\.part: run again to resume/);
    return true;
  });
  assert.ok(!existsSync(dest), 'no half-written file under the final name');
  assert.equal(statSync(dest + '.part').size, payload.length >> 1);
  await download(s.url, dest, { md5: md5(payload), retries: 0 });
  await s.close();
  assert.deepEqual(readFileSync(dest), payload);
  assert.equal(s.requests[1].range, 'bytes=150000-');
});

test('a server that ignores Range makes the download start again (restartable)', async () => {
  const s = await serve(payload, { ignoreRange: true });
  const dest = join(tempDir(), 'file.bin');
  writeFileSync(dest + '.part', payload.subarray(0, 1000));
  await download(s.url, dest, { md5: md5(payload) });
  await s.close();
  assert.deepEqual(readFileSync(dest), payload);
});

test('a bad md5 deletes the download and names both checksums', async () => {
  const s = await serve(payload);
  const dest = join(tempDir(), 'file.bin');
  await assert.rejects(download(s.url, dest, { md5: '0123456789abcdef0123456789abcdef' }), (err: Error) => {
    assert.ok(err instanceof DataError);
    assert.ok(err.message.includes(`has md5 ${md5(payload)} (300,000 bytes), but it should have md5 0123456789abcdef0123456789abcdef`), err.message);
    return true;
  });
  await s.close();
  assert.ok(!existsSync(dest) && !existsSync(dest + '.part'));
});

test('loadCifar10 downloads into dataDir when nothing is there, then reads the cache', async () => {
  const data = tinyCifar(4, 9);
  const archive = tarGz(archiveEntries(data));
  const s = await serve(archive, { cutFirst: 1 });
  const dataDir = tempDir();
  const opts = {
    dataDir, url: s.url, md5: md5(archive), recordsPerBatch: 4,
    onProgress: (p: { phase: string; done: number }) => { if (p.phase === 'download' && p.done >= archive.length >> 1) s.cut(); },
  };
  const saved = process.env.SCCONV_DATA;
  delete process.env.SCCONV_DATA;
  try {
    const c = await loadCifar10(opts);
    assert.equal(c.source, join(dataDir, 'cifar-10-binary.tar.gz'));
    assert.deepEqual([...c.test.labels], [...data.labels.get('test_batch.bin')!]);
    assert.equal(c.label, DATA_LABELS.unverified); // not the official archive's md5
    const again = await loadCifar10({ ...opts, download: false });
    assert.deepEqual(again.train.images, c.train.images);
    assert.equal(s.requests.length, 2); // cut + resume; the second load used the cache
  } finally {
    if (saved !== undefined) process.env.SCCONV_DATA = saved;
    await s.close();
  }
});

test('without data and without network: one error that says what to do', async () => {
  const s = await serve(payload);
  await s.close(); // nothing listens on this port any more: connection refused
  const saved = process.env.SCCONV_DATA;
  delete process.env.SCCONV_DATA;
  try {
    const dataDir = tempDir();
    await assert.rejects(loadCifar10({ dataDir, url: s.url, onProgress: () => {} }), (err: Error) => {
      assert.ok(err instanceof DataError);
      assert.ok(err.message.startsWith(`CIFAR-10 was not found in ${dataDir} and could not be downloaded (Cannot download ${s.url}: connect ECONNREFUSED`), err.message);
      assert.ok(err.message.includes(`download ${CIFAR10_URL} (162 MiB, md5 c32a1d4ab5d03f1284b67883e8d87530)`));
      assert.match(err.message, /put it in data\/ \(as data\/cifar-10-binary\.tar\.gz, or extracted as data\/cifar-10-batches-bin\/\)/);
      assert.match(err.message, /--data PATH or SCCONV_DATA=PATH/);
      return true;
    });
    await assert.rejects(loadCifar10({ dataDir, download: false }), /was not found in .* and downloading is turned off\. To get CIFAR-10: download/);
    process.env.SCCONV_DATA = join(dataDir, 'nowhere.tar.gz');
    await assert.rejects(loadCifar10({ dataDir }), /SCCONV_DATA names .*nowhere\.tar\.gz, but nothing is there\. To get CIFAR-10/);
  } finally {
    if (saved === undefined) delete process.env.SCCONV_DATA;
    else process.env.SCCONV_DATA = saved;
  }
});

test('a cache that cannot be written (a full disk, a file in the way) is one DataError naming the path, not a crash', async () => {
  const s = await serve(payload);
  try {
    // /dev/full fails every write with ENOSPC: the write stream's error, which once crashed the process
    const dest = join(tempDir(), 'file.bin');
    symlinkSync('/dev/full', dest + '.part');
    await assert.rejects(download(s.url, dest, { md5: md5(payload), retries: 0 }), (err: Error) =>
      err instanceof DataError && err.message === `download expects a writable ${dest}.part, but received the disk is full (ENOSPC). ` +
        'Free space or make that folder writable, or download the archive elsewhere and pass --data PATH (or SCCONV_DATA=PATH).');
    assert.ok(!existsSync(dest));

    const file = join(tempDir(), 'a-file');
    writeFileSync(file, '');
    await assert.rejects(loadCifar10({ dataDir: join(file, 'data'), url: s.url, onProgress: () => {} }), (err: Error) =>
      err instanceof DataError && /^download expects a writable .*a-file.*, but received a part of the path is a file, not a folder \(ENOTDIR\)\. Free space/.test(err.message));
  } finally {
    await s.close();
  }
});
