import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/bridge/python-path.js';
import { configJsonSchemaText } from '../../src/config/json-schema.js';

describe('configs/schema.json', () => {
  it('is the current export of the zod schema (run `npm run schema` after changing it)', () => {
    const committed = readFileSync(join(PACKAGE_ROOT, 'configs', 'schema.json'), 'utf8');
    expect(committed).toBe(configJsonSchemaText());
  });
});
