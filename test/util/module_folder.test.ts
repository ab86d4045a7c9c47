import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { moduleFolder } from '../../src/util/module_folder';

test('moduleFolder finds a module of the stack by its base name, and only that one', () => {
  assert.equal(moduleFolder('module_folder'), path.resolve('src', 'util'));
  assert.equal(moduleFolder('no_such_module'), undefined);
});
