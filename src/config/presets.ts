import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../bridge/python-path.js';
import { ConfigError } from '../errors.js';
import { loadConfig, type Override } from './load.js';
import type { Config } from './schema.js';

/** The folder of the learning-rule presets shipped with the package. */
export const PRESETS_DIR = join(PACKAGE_ROOT, 'configs', 'rules');

/** Names of the shipped learning-rule presets, e.g. "clapp-pp". */
export function presetNames(): string[] {
  return readdirSync(PRESETS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** Load a shipped preset by name, with overrides. */
export function loadPreset(name: string, overrides: readonly Override[] = []): Config {
  const file = join(PRESETS_DIR, `${name}.yaml`);
  if (!existsSync(file)) {
    throw new ConfigError(`unknown preset "${name}"; known: ${presetNames().join(', ')}`);
  }
  return loadConfig(file, overrides);
}
