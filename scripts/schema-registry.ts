/** Every published JSON Schema and the zod schema it is generated from. */
import type { z } from 'zod';
import { InspectOutputSchema } from '../src/formats/inspect-report.ts';

export const PUBLISHED: Record<string, z.ZodType> = {
  'inspect-report.schema.json': InspectOutputSchema,
};
