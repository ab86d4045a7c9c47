import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataError } from '../../src/errors';
import { guardWrite, writeError } from '../../src/util/write_errors';

const errno = (code: string, path?: string) => Object.assign(new Error(`${code}: failed`), { code, path });

test('writeError: a failed write becomes one line naming the path, the cause and the fix', () => {
  const cases: [string, RegExp][] = [
    ['EACCES', /permission denied \(EACCES\)/], ['EPERM', /permission denied \(EPERM\)/], ['EROFS', /read-only \(EROFS\)/],
    ['ENOSPC', /the disk is full \(ENOSPC\)/], ['EDQUOT', /quota is used up \(EDQUOT\)/], ['ENOTDIR', /a file, not a folder \(ENOTDIR\)/],
  ];
  for (const [code, why] of cases) {
    const e = writeError(errno(code, '/runs/a/metrics.jsonl'), 'train', '/runs/a', 'Choose a writable --out.');
    assert.ok(e instanceof DataError, code);
    assert.match(e.message, /^train expects a writable \/runs\/a\/metrics\.jsonl, but received /);
    assert.match(e.message, why);
    assert.match(e.message, /Choose a writable --out\.$/);
    assert.ok(!e.message.includes('\n'));
  }
  // a write through a descriptor names no file: the given path stands in
  assert.match(writeError(errno('ENOSPC'), 'download', '/data/x.part', 'Free space.')!.message, /writable \/data\/x\.part, but received the disk is full/);
  assert.equal(writeError(errno('ENOENT', '/x'), 'train', '/x', ''), null);
  assert.equal(writeError(new Error('plain'), 'train', '/x', ''), null);
  assert.equal(writeError(undefined, 'train', '/x', ''), null);
});

test('guardWrite passes results through and rethrows other errors unchanged', () => {
  assert.equal(guardWrite('train', '/x', 'fix', () => 42), 42);
  const other = errno('ENOENT', '/x');
  assert.throws(() => guardWrite('train', '/x', 'fix', () => { throw other; }), (e) => e === other);
  assert.throws(() => guardWrite('train', '/x', 'Fix it.', () => { throw errno('EROFS'); }), /^DataError: train expects a writable \/x, but received the file system is read-only \(EROFS\)\. Fix it\.$/);
});
