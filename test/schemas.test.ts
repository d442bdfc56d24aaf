import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PUBLISHED } from '../scripts/schema-registry.ts';
import { renderSchema } from '../scripts/schemas-update.ts';
import { ROOT } from './helpers/corpus.ts';

for (const [name, schema] of Object.entries(PUBLISHED)) {
  test(`schemas/${name} is current (regenerate with npm run schemas:update)`, () => {
    const committed = readFileSync(join(ROOT, 'schemas', name), 'utf8');
    assert.equal(committed, renderSchema(schema));
  });
}
