/** Write configs/schema.json from the zod schema; test/config/json-schema.test.ts checks it. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/bridge/python-path.js';
import { configJsonSchemaText } from '../src/config/json-schema.js';

const target = join(PACKAGE_ROOT, 'configs', 'schema.json');
writeFileSync(target, configJsonSchemaText());
process.stderr.write(`wrote ${target}\n`);
