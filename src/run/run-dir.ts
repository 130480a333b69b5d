import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { describeIssues } from '../bridge/protocol.js';
import { resolveConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { LocalsslError } from '../errors.js';
import {
  type ProbeResult,
  probeResultSchema,
  type RunEvent,
  type TrainResult,
  trainResultSchema,
} from './events.js';

/** A run directory as it stands on disk. */
export interface Run {
  dir: string;
  config: Config;
  /** Epoch numbers of the complete checkpoints, ascending. */
  checkpoints: number[];
  train: TrainResult | undefined;
  probe: ProbeResult | undefined;
  probeRandom: ProbeResult | undefined;
}

/** Write a file through a temporary name and a rename, so readers never see half of it. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function stamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-` +
    `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`
  );
}

/** Make `runsDir/<name>-<time>/` with the resolved config in it; never reuses a directory. */
export function createRunDir(runsDir: string, config: Config): string {
  mkdirSync(runsDir, { recursive: true });
  const base = join(resolve(runsDir), `${config.name}-${stamp(new Date())}`);
  let dir = base;
  for (let n = 2; existsSync(dir); n += 1) dir = `${base}-${n}`;
  mkdirSync(dir);
  writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return dir;
}

/** Remove a run directory that holds nothing worth keeping (no complete checkpoint). */
export function discardIfEmpty(dir: string): boolean {
  if (existsSync(join(dir, 'checkpoints', 'latest.json'))) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/** Append one event to the run's events.jsonl. */
export function appendEvent(dir: string, event: RunEvent | Record<string, unknown>): void {
  appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify(event)}\n`);
}

/** Read and validate an optional JSON file of a run; undefined when it does not exist. */
export function readJson<T>(path: string, schema: z.ZodType<T>): T | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new LocalsslError('E_RUN', `${path}: not valid JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new LocalsslError('E_RUN', `${path}: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}

/** Read a run directory: its resolved config, checkpoints and results so far. */
export function openRun(dir: string): Run {
  const abs = resolve(dir);
  const configPath = join(abs, 'config.json');
  if (!existsSync(configPath)) {
    throw new LocalsslError('E_RUN', `${abs}: not a run directory (no config.json)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch {
    throw new LocalsslError('E_RUN', `${configPath}: not valid JSON`);
  }
  const config = resolveConfig(raw, configPath);

  const ckptDir = join(abs, 'checkpoints');
  const checkpoints = existsSync(ckptDir)
    ? readdirSync(ckptDir)
        .map((name) => /^epoch-(\d+)$/.exec(name))
        .filter((m): m is RegExpExecArray => m !== null)
        .filter((m) => existsSync(join(ckptDir, m[0], 'state.json')))
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b)
    : [];

  return {
    dir: abs,
    config,
    checkpoints,
    train: readJson(join(abs, 'train.json'), trainResultSchema),
    probe: readJson(join(abs, 'probe.json'), probeResultSchema),
    probeRandom: readJson(join(abs, 'probe-random.json'), probeResultSchema),
  };
}
