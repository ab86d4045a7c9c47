/**
 * CI must not silently skip the native tests: with `CI` or `SCCONV_NATIVE_STRICT=1` set (.ci/run
 * sets it), the addon has to load. Elsewhere a missing addon skips the native tests, saying why.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadNativeAddon, missingEntries } from '../../src/kernels/native_addon';

const strict = !!process.env.CI || process.env.SCCONV_NATIVE_STRICT === '1';

test('the native addon loads (required under CI or SCCONV_NATIVE_STRICT=1)',
  { skip: strict ? false : 'neither CI nor SCCONV_NATIVE_STRICT=1 is set' }, () => {
    const { addon, why } = loadNativeAddon();
    assert.ok(addon, `the native tests would be skipped: ${why}`);
    assert.match(addon.version(), /^oneDNN \d+\.\d+\.\d+$/);
  });

test('an addon built from older sources is named by the entries it lacks', () => {
  const all = missingEntries({});
  assert.ok(all.includes('conv') && all.includes('sgdMomentum'), `missingEntries({}) = ${all.join(', ')}`);
  const fake = Object.fromEntries(all.filter((name) => name !== 'sgdMomentum').map((name) => [name, () => undefined]));
  assert.deepEqual(missingEntries(fake), ['sgdMomentum']);
  const { addon } = loadNativeAddon();
  if (addon) assert.deepEqual(missingEntries(addon), [], 'the built addon lacks entries: run npm run build:native');
});
