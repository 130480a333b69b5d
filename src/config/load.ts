import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type Config, configSchema } from './schema.js';

/** One `--set path.to.key=value` override; the value is read as YAML (numbers, lists, null). */
export interface Override {
  path: string[];
  value: unknown;
}

/** Parse `a.b.c=value` into an override, or throw a ConfigError naming the bad argument. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq) : '';
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*|\.\d+)*$/.test(key)) {
    throw new ConfigError(`--set ${text}: expected path.to.key=value`);
  }
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = raw === '' ? '' : parseYaml(raw);
  } catch {
    value = raw;
  }
  return { path: key.split('.'), value };
}

function applyOverride(target: Record<string, unknown>, { path, value }: Override): void {
  let node: Record<string, unknown> = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (next === undefined || next === null) {
      node[part] = {};
    } else if (typeof next !== 'object') {
      throw new ConfigError(`--set ${path.join('.')}: ${part} is not an object`);
    }
    node = node[part] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/** Format the first zod issue as `<where>: <key path>: <what was expected>`. */
export function describeIssue(where: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}`;
  }
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `${where}: ${path}: ${message}${more}`;
}

/** Check a plain object against the schema and apply defaults. */
export function resolveConfig(raw: unknown, where = 'config'): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${where}: expected a mapping of keys to values at the top level`);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(describeIssue(where, result.error));
  }
  // The editor hint points relative to the source file; a resolved config stands alone.
  const { $schema: _hint, ...config } = result.data;
  return config;
}

/** Read a YAML or JSON config file, apply overrides, validate it, and return it resolved. */
export function loadConfig(file: string, overrides: readonly Override[] = []): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'unreadable';
    throw new ConfigError(`${file}: ${reason}`, { cause: error });
  }

  let raw: unknown;
  try {
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const detail = (error as Error).message.split('\n')[0];
    throw new ConfigError(
      `${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${detail}`,
    );
  }

  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const override of overrides) {
      applyOverride(raw as Record<string, unknown>, override);
    }
  }
  return resolveConfig(raw, file);
}
