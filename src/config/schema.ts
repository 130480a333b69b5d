import { z } from 'zod';

/** Bumped whenever a config written for an older engine would be read differently. */
export const SCHEMA_VERSION = 1;

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);

/** The decreasing function f applied to the score u (paper, section 2.2). */
export const scoreSchema = z
  .discriminatedUnion('f', [
    z.strictObject({
      f: z.literal('hinge'),
      margin: z.number().positive().default(1).describe('max(0, margin - u) and max(0, margin + u)'),
    }),
    z.strictObject({
      f: z.literal('softhinge'),
      margin: z.number().positive().default(1).describe('softplus(margin - u), softplus(margin + u)'),
    }),
    z.strictObject({
      f: z.literal('logistic'),
      threshold: z.number().default(0).describe('Forward-forward goodness threshold theta'),
    }),
    z.strictObject({ f: z.literal('linear') }),
    z.strictObject({
      f: z.literal('phyll'),
      theta: z.number().positive().default(1).describe('log(1 + exp(theta (u_neg - u_pos)))'),
    }),
    z.strictObject({
      f: z.literal('infonce'),
      temperature: z.number().positive().default(0.1),
    }),
  ])
  .describe('Score function f of the unified loss');

/** The matrix B^l that maps the context onto the layer's representation. */
export const predictorSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('trainable') }),
    z.strictObject({ kind: z.literal('low-rank'), rank: positiveInt }),
    z.strictObject({ kind: z.literal('identity') }),
    z.strictObject({ kind: z.literal('fixed-random') }),
  ])
  .describe('B^l: trainable full, trainable low-rank, identity, or fixed random');

export const poolingSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('global') }),
    z.strictObject({
      kind: z.literal('patch'),
      kernels: z.array(positiveInt).min(1).describe('Loss-pool kernel k_l per layer'),
    }),
  ])
  .describe('Pooling before the loss: global average, or patches of k_l x k_l');

const negativesSchema = z
  .enum(['next', 'random'])
  .describe('next: the next image in the stacked batch; random: a random other image');

const ruleCommon = {
  score: scoreSchema.default({ f: 'hinge', margin: 1 }),
  predictor: predictorSchema.default({ kind: 'trainable' }),
  predictorDecay: z.number().min(0).default(0).describe('L2 penalty on B^l'),
  pooling: poolingSchema.default({ kind: 'global' }),
  negatives: negativesSchema.default('next'),
};

/** A learning rule: a per-layer loss with blocked gradients, or one loss on top through BP. */
export const ruleSchema = z.discriminatedUnion('gradientFlow', [
  z.strictObject({
    gradientFlow: z.literal('local').describe('Every layer input and the context detached'),
    context: z
      .enum(['same', 'top', 'both'])
      .default('same')
      .describe('same: this layer, other view; top: direct feedback (DFB); both: the two summed'),
    schedule: z
      .enum(['detach', 'layerwise'])
      .default('detach')
      .describe('detach: all losses after one forward; layerwise: update and free layer by layer'),
    ...ruleCommon,
  }),
  z.strictObject({
    gradientFlow: z.literal('global').describe('One loss on the top layer, backpropagated'),
    ...ruleCommon,
  }),
]);

export const augmentationSchema = z.strictObject({
  cropScale: z
    .tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)])
    .default([0.4, 1])
    .describe('Random resized crop: area fraction range'),
  flipP: probability.default(0).describe('Horizontal flip probability'),
  jitterP: probability.default(0.8).describe('Colour jitter probability'),
  brightness: z.number().min(0).default(0.4),
  contrast: z.number().min(0).default(0.4),
  saturation: z.number().min(0).default(0),
  hue: z.number().min(0).max(0.5).default(0),
  grayscaleP: probability.default(0),
  blurP: probability.default(0.5),
});

export const datasetNames = ['mnist', 'fashion-mnist'] as const;

export const dataSchema = z.strictObject({
  dataset: z.enum(datasetNames),
  root: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe('Folder of the dataset files; null = the embedded or system copy'),
  imageSize: positiveInt.default(32).describe('Side in px after padding or resizing'),
  trainSubset: positiveInt.nullable().default(null).describe('Use only the first N train images'),
  testSubset: positiveInt.nullable().default(null).describe('Use only the first N test images'),
  augmentation: augmentationSchema.default(augmentationSchema.parse({})),
});

export const modelSchema = z.strictObject({
  arch: z.literal('vgg6').default('vgg6'),
  widths: z
    .array(positiveInt)
    .length(6)
    .default([128, 256, 256, 512, 1024, 1024])
    .describe('Conv channels of the six layers before the width multiplier'),
  widthMultiplier: z.number().gt(0).max(4).default(1),
  inChannels: positiveInt.default(3),
});

export const optimizerSchema = z.strictObject({
  name: z.literal('adamw').default('adamw'),
  lr: z.number().positive().default(2e-4),
  weightDecay: z.number().min(0).default(0),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
});

export const trainSchema = z.strictObject({
  epochs: positiveInt,
  batchSize: positiveInt.default(32),
  maxStepsPerEpoch: positiveInt.nullable().default(null),
  logEverySteps: positiveInt.default(10),
});

export const probeSchema = z.strictObject({
  epochs: positiveInt.default(10),
  batchSize: positiveInt.default(32),
  lr: z.number().positive().default(1e-3),
  weightDecay: z.number().min(0).default(0),
  pools: z
    .array(positiveInt)
    .min(1)
    .nullable()
    .default(null)
    .describe('Average-pool kernel per layer for probe features; null = the loss-pool kernels'),
  augment: z.boolean().default(true).describe('Random crop and flip of probe-train images'),
  trainSubset: positiveInt.nullable().default(null),
  testSubset: positiveInt.nullable().default(null),
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    schemaVersion: z.literal(SCHEMA_VERSION),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'letters, digits, ".", "_", "+" and "-"')
      .describe('Used in the run directory name'),
    seed: z.number().int().min(0).default(2),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    threads: positiveInt.nullable().default(null).describe('torch threads; null = all cores'),
    precision: z.enum(['auto', 'fp32', 'bf16']).default('auto').describe('auto: bf16 on CUDA'),
    model: modelSchema.default(modelSchema.parse({})),
    data: dataSchema,
    rule: ruleSchema,
    optimizer: optimizerSchema.default(optimizerSchema.parse({})),
    train: trainSchema,
    probe: probeSchema.default(probeSchema.parse({})),
  })
  .superRefine((config, ctx) => {
    const { rule, model } = config;
    if (rule.pooling.kind === 'patch' && rule.pooling.kernels.length !== model.widths.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['rule', 'pooling', 'kernels'],
        message: `needs one kernel per layer (${model.widths.length}), got ${rule.pooling.kernels.length}`,
      });
    }
    if (config.probe.pools !== null && config.probe.pools.length !== model.widths.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['probe', 'pools'],
        message: `needs one kernel per layer (${model.widths.length}), got ${config.probe.pools.length}`,
      });
    }
    if (rule.score.f === 'infonce' && rule.gradientFlow === 'local' && rule.context !== 'same') {
      ctx.addIssue({
        code: 'custom',
        path: ['rule', 'context'],
        message: 'layer-wise InfoNCE contrasts views of the same layer; use context "same"',
      });
    }
  });

/** A config as written in a file: defaults not yet applied. */
export type RawConfig = z.input<typeof configSchema>;
/** A resolved config: every default applied, every value checked. */
export type Config = z.output<typeof configSchema>;
export type Rule = Config['rule'];
