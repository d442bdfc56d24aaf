/** Every published JSON Schema and the zod schema it is generated from. */
import type { z } from 'zod';
import { ManifestSchema } from '../src/convert/manifest-schema.ts';
import { ConvertReportSchema } from '../src/convert/report-schema.ts';
import { InspectOutputSchema } from '../src/formats/inspect-report.ts';
import { ChipProfileSourceSchema } from '../src/layout/chip-schema.ts';
import { RecipeSchema } from '../src/recipe/schema.ts';
import { HeaderLayoutSourceSchema } from '../src/header/schema.ts';
import { DiffReportSchema } from '../src/verify/report-schema.ts';
import { DoctorReportSchema } from '../src/doctor/report-schema.ts';
import { ListReportSchema } from '../src/cli/render/list.ts';

export const PUBLISHED: Record<string, z.ZodType> = {
  'inspect-report.schema.json': InspectOutputSchema,
  'chip-profile.schema.json': ChipProfileSourceSchema,
  'convert-report.schema.json': ConvertReportSchema,
  'convert-manifest.schema.json': ManifestSchema,
  'recipe.schema.json': RecipeSchema,
  'header-layout.schema.json': HeaderLayoutSourceSchema,
  'diff-report.schema.json': DiffReportSchema,
  'doctor-report.schema.json': DoctorReportSchema,
  'list-report.schema.json': ListReportSchema,
};
