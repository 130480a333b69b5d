import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseOverride, resolveConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const GOOD = join(import.meta.dirname, '../fixtures/configs/good.yaml');
const dir = mkdtempSync(join(tmpdir(), 'localssl-config-'));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const base = {
  schemaVersion: 1,
  name: 'x',
  data: { dataset: 'mnist' },
  rule: { gradientFlow: 'local' },
  train: { epochs: 1 },
};

function messageOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies every default to a minimal YAML config', () => {
    const config = loadConfig(GOOD);
    expect(config.seed).toBe(2);
    expect(config.optimizer).toEqual({
      name: 'adamw',
      lr: 2e-4,
      weightDecay: 0,
      betas: [0.9, 0.999],
    });
    expect(config.model.widths).toEqual([128, 256, 256, 512, 1024, 1024]);
    expect(config.data.augmentation.cropScale).toEqual([0.4, 1]);
    expect(config.rule).toMatchObject({
      gradientFlow: 'local',
      context: 'same',
      negatives: 'next',
    });
  });

  it('reads JSON as well as YAML, and applies --set overrides with YAML values', () => {
    const path = write('c.json', JSON.stringify(base));
    const config = loadConfig(path, [
      parseOverride('train.epochs=3'),
      parseOverride('model.widths=[1,2,3,4,5,6]'),
      parseOverride('data.root=null'),
      parseOverride('optimizer.lr=1e-3'),
    ]);
    expect(config.train.epochs).toBe(3);
    expect(config.model.widths).toEqual([1, 2, 3, 4, 5, 6]);
    expect(config.data.root).toBeNull();
    expect(config.optimizer.lr).toBe(1e-3);
  });

  it('creates missing intermediate objects for an override', () => {
    const config = loadConfig(write('d.json', JSON.stringify(base)), [
      parseOverride('probe.epochs=4'),
    ]);
    expect(config.probe.epochs).toBe(4);
  });

  it('drops the $schema editor hint from the resolved config', () => {
    const config = loadConfig(write('s.json', JSON.stringify({ ...base, $schema: './x.json' })));
    expect(config).not.toHaveProperty('$schema');
  });
});

describe('bad configs give one line with the file, the key path and what was expected', () => {
  // biome-ignore lint/suspicious/noExplicitAny: the point is to build configs the types forbid
  type Raw = Record<string, any>;
  const valid = (): Raw => ({
    schemaVersion: 1,
    name: 'x',
    data: { dataset: 'mnist', augmentation: {} },
    rule: { gradientFlow: 'local', pooling: { kind: 'patch', kernels: [4, 4, 4, 2, 2, 1] } },
    train: { epochs: 1 },
    model: {},
    probe: {},
  });
  const cases: [string, (c: Raw) => void, string][] = [
    [
      'unknown top-level key',
      (c) => {
        c.epochs = 3;
      },
      '(top level): unknown key "epochs"',
    ],
    [
      'missing section',
      (c) => {
        delete c.data;
      },
      'data: Invalid input: expected object, received undefined',
    ],
    [
      'wrong schema version',
      (c) => {
        c.schemaVersion = 2;
      },
      'schemaVersion: Invalid input: expected 1',
    ],
    [
      'negative epochs',
      (c) => {
        c.train.epochs = -1;
      },
      'train.epochs: Too small: expected number to be >0',
    ],
    [
      'fractional batch',
      (c) => {
        c.train.batchSize = 3.5;
      },
      'train.batchSize: Invalid input: expected int, received number',
    ],
    [
      'unknown dataset',
      (c) => {
        c.data.dataset = 'cifar100';
      },
      'data.dataset: Invalid option: expected one of',
    ],
    [
      'wrong widths length',
      (c) => {
        c.model.widths = [1, 2];
      },
      'model.widths: Too small: expected array to have >=6 items',
    ],
    [
      'bad name',
      (c) => {
        c.name = 'a b';
      },
      'name: letters, digits, ".", "_", "+" and "-"',
    ],
    [
      'probability above 1',
      (c) => {
        c.data.augmentation.flipP = 1.5;
      },
      'data.augmentation.flipP: Too big: expected number to be <=1',
    ],
    [
      'unknown gradient flow',
      (c) => {
        c.rule.gradientFlow = 'sideways';
      },
      'rule',
    ],
    [
      'kernel count',
      (c) => {
        c.rule.pooling.kernels = [4, 4];
      },
      'rule.pooling.kernels: needs one kernel per layer (6), got 2',
    ],
    [
      'unknown device',
      (c) => {
        c.device = 'tpu';
      },
      'device: Invalid option: expected one of "auto"|"cpu"|"cuda"',
    ],
    [
      'probe pools count',
      (c) => {
        c.probe.pools = [1];
      },
      'probe.pools: needs one kernel per layer (6), got 1',
    ],
    [
      'unknown nested key',
      (c) => {
        c.optimizer = { lr: 1e-3, momentum: 0.9 };
      },
      'optimizer: unknown key "momentum"',
    ],
  ];

  it.each(cases)('%s', (_label, mutate, expected) => {
    const config = valid();
    mutate(config);
    const path = write('bad.json', JSON.stringify(config));
    const message = messageOf(() => loadConfig(path));
    expect(message.startsWith(`${path}: `)).toBe(true);
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
  });

  it('names a file that does not exist', () => {
    expect(messageOf(() => loadConfig(join(dir, 'missing.yaml')))).toBe(
      `${join(dir, 'missing.yaml')}: no such file`,
    );
  });

  it('names a file that is not YAML', () => {
    const path = write('broken.yaml', 'a: [1, 2\n');
    expect(messageOf(() => loadConfig(path))).toMatch(new RegExp(`^${path}: not valid YAML: `));
  });

  it('rejects a document that is not a mapping', () => {
    const path = write('list.yaml', '- 1\n- 2\n');
    expect(messageOf(() => loadConfig(path))).toBe(
      `${path}: expected a mapping of keys to values at the top level`,
    );
  });

  it('rejects a malformed override', () => {
    expect(messageOf(() => parseOverride('train.epochs'))).toBe(
      '--set train.epochs: expected path.to.key=value',
    );
    expect(messageOf(() => parseOverride('=3'))).toBe('--set =3: expected path.to.key=value');
  });

  it('rejects an override through a scalar', () => {
    const path = write('e.json', JSON.stringify(base));
    expect(messageOf(() => loadConfig(path, [parseOverride('name.first=1')]))).toBe(
      '--set name.first: name is not an object',
    );
  });

  it('resolveConfig checks objects that come from code', () => {
    expect(messageOf(() => resolveConfig({ ...base, seed: -1 }, 'library call'))).toBe(
      'library call: seed: Too small: expected number to be >=0',
    );
  });
});
