/**
 * Regenerates schemas/*.schema.json from the zod schemas (the only way to change them).
 * A test (test/schemas.test.ts) fails when a committed file is not what this would write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PUBLISHED } from './schema-registry.ts';

export function renderSchema(schema: z.ZodType): string {
  return JSON.stringify(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'output' }), null, 2) + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = join(import.meta.dirname, '..', 'schemas');
  for (const [name, schema] of Object.entries(PUBLISHED)) {
    writeFileSync(join(dir, name), renderSchema(schema));
    console.log(`wrote schemas/${name}`);
  }
}
