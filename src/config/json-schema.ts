import { z } from 'zod';
import { configSchema } from './schema.js';

/** The config schema as JSON Schema (draft 2020-12), for editors and for the Python side's test. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
  return { ...schema, title: 'localssl experiment config' };
}

/** The committed file's exact text, so a test can compare it byte for byte. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
