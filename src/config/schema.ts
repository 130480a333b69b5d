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
      margin: z
        .number()
        .positive()
        .default(1)
        .describe('max(0, margin - u) and max(0, margin + u)'),
    }),
    z.strictObject({
      f: z.literal('softhinge'),
      margin: z
        .number()
        .positive()
        .default(1)
        .describe('softplus(margin - u), softplus(margin + u)'),
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
    z.strictObject({ kind: z.literal('none') }),
  ])
  .describe('Pooling before the loss: global average, patches of k_l x k_l, or none (every unit)');

const negativesSchema = z
  .enum(['next', 'random'])
  .describe('next: the next image in the stacked batch; random: a random other image');

const scheduleSchema = z
  .enum(['detach', 'layerwise'])
  .default('detach')
  .describe('detach: all losses after one forward; layerwise: update and free layer by layer');

const predictorDecaySchema = z.number().min(0).default(0).describe('L2 penalty on B^l');

const contrastiveCommon = {
  kind: z
    .literal('contrastive')
    .default('contrastive')
    .describe('The unified loss on two augmented views (the default kind)'),
  score: scoreSchema.default({ f: 'hinge', margin: 1 }),
  predictor: predictorSchema.default({ kind: 'trainable' }),
  predictorDecay: predictorDecaySchema,
  pooling: poolingSchema.default({ kind: 'global' }),
  negatives: negativesSchema.default('next'),
};

/** The unified per-layer loss (paper-spec 2): CLAPP++, its DFB variants, InfoNCE, BP baselines. */
export const contrastiveRuleSchema = z.discriminatedUnion(
  'gradientFlow',
  [
    z.strictObject({
      ...contrastiveCommon,
      gradientFlow: z.literal('local').describe('Every layer input and the context detached'),
      context: z
        .enum(['same', 'top', 'both'])
        .default('same')
        .describe('same: this layer, other view; top: direct feedback (DFB); both: the two summed'),
      schedule: scheduleSchema,
      predictorTraining: z
        .enum(['loss', 'match-bp'])
        .default('loss')
        .describe(
          'loss: B^l learns from the rule; match-bp: analysis mode, B^l (l < L) fitted to the ' +
            'backprop error signal (paper-spec 5.3)',
        ),
    }),
    z.strictObject({
      ...contrastiveCommon,
      gradientFlow: z.literal('global').describe('One loss on the top layer, backpropagated'),
    }),
  ],
  { error: () => 'expected "local" or "global"' },
);

/** Forward-forward with self-contrastive (SCFF) pairs (paper-spec 4.8). */
export const forwardForwardRuleSchema = z.strictObject({
  kind: z.literal('forward-forward'),
  gradientFlow: z.literal('local').default('local').describe('Each layer learns on its own'),
  context: z
    .literal('self')
    .default('self')
    .describe('Each sample is its own context: the score is the goodness ||z||^2 / D'),
  score: scoreSchema
    .default({ f: 'logistic', threshold: 1 })
    .describe('logistic: softplus(theta - u_pos) + softplus(u_neg - theta)'),
  predictor: predictorSchema.default({ kind: 'identity' }).describe('B = I (nothing else fits)'),
  pooling: poolingSchema.default({ kind: 'none' }),
  negatives: negativesSchema
    .default('random')
    .describe('The other image of a negative pair: next in the batch, or random; never the same'),
  normalizeInputs: z
    .boolean()
    .default(true)
    .describe('Length-normalise the input of every hidden layer (hides the goodness below)'),
  schedule: scheduleSchema,
});

/** CLAPP (Illing et al. 2021) on a grey patch grid (paper-spec 6.3-6.6). */
export const clapp2021RuleSchema = z.strictObject({
  kind: z.literal('clapp-2021'),
  gradientFlow: z
    .enum(['local', 'global'])
    .default('local')
    .describe('local: CLAPP, a loss per layer; global: Hinge-Loss CPC, one loss on top, BP'),
  context: z
    .literal('rows-ahead')
    .default('rows-ahead')
    .describe('The patch at grid row y predicts the patch k + skipRows rows below'),
  score: scoreSchema.default({ f: 'hinge', margin: 1 }),
  predictor: predictorSchema.default({ kind: 'trainable' }).describe('One B_k per step k'),
  predictorDecay: predictorDecaySchema,
  pooling: poolingSchema.default({ kind: 'global' }).describe('Pooling within each patch'),
  negatives: negativesSchema
    .default('random')
    .describe('Another image at the same grid position: next in the batch, or random'),
  patchSize: positiveInt.default(16).describe('Side of a patch in px'),
  patchStride: positiveInt.default(8).describe('Step between patches in px (8: 50 % overlap)'),
  predictionSteps: positiveInt.default(5).describe('Steps k = 1..K'),
  skipRows: z
    .number()
    .int()
    .min(0)
    .default(1)
    .describe('Rows skipped before the first prediction (1: the overlapping adjacent row)'),
  eitherPosOrNeg: z
    .boolean()
    .default(true)
    .describe('Each image takes only its positive or only its negative term, p = 1/2'),
  asymmetric: z
    .boolean()
    .default(true)
    .describe('Separate prediction and retrodiction matrices (CLAPP); false: CLAPP-s'),
  schedule: scheduleSchema,
});

const ruleKinds = '"contrastive" (the default), "forward-forward" or "clapp-2021"';

/** A learning rule, told apart by `kind`; a rule without `kind` is contrastive. */
export const ruleSchema = z.discriminatedUnion(
  'kind',
  [contrastiveRuleSchema, forwardForwardRuleSchema, clapp2021RuleSchema],
  {
    unionFallback: true,
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const input = issue.input as Record<string, unknown> | undefined;
      const inner = 'errors' in issue ? issue.errors[0]?.[0] : undefined;
      if (input && typeof input === 'object' && !('kind' in input) && inner !== undefined) {
        // Without `kind` the rule is contrastive: report that option's own first problem.
        const where = inner.path.length > 0 ? `${inner.path.join('.')}: ` : '';
        const what =
          inner.code === 'unrecognized_keys'
            ? `unknown key ${inner.keys.map((k) => `"${k}"`).join(', ')}`
            : inner.message;
        return `${where}${what} (a rule without "kind" is contrastive)`;
      }
      return `kind: expected ${ruleKinds}`;
    },
  },
);

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
  blurKernel: positiveInt
    .refine((k) => k % 2 === 1, 'must be odd')
    .nullable()
    .default(null)
    .describe('Gaussian blur kernel side in px; null = int(0.1 x imageSize) rounded up to odd'),
});

/** Every dataset the engine reads; the last three need data.root (`localssl data download`). */
export const datasetNames = [
  'mnist',
  'fashion-mnist',
  'cifar10',
  'stl10',
  'tiny-imagenet',
] as const;

export type DatasetName = (typeof datasetNames)[number];

export const dataSchema = z.strictObject({
  dataset: z.enum(datasetNames),
  root: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'Folder of the dataset files; null = the embedded (mnist) or system (fashion-mnist) copy',
    ),
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
  alignEverySteps: positiveInt
    .nullable()
    .default(null)
    .describe(
      'Measure local-vs-backprop alignment on a held-out batch every N steps (local rules)',
    ),
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
  cropScale: z
    .tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)])
    .nullable()
    .default(null)
    .describe('Area range of the probe-train random crop; null = data.augmentation.cropScale'),
  testResize: positiveInt
    .nullable()
    .default(null)
    .describe('Resize test images to this side before the centre crop (STL-10: 105); null = no'),
  trainSubset: positiveInt.nullable().default(null),
  testSubset: positiveInt.nullable().default(null),
  perLayer: z
    .boolean()
    .default(false)
    .describe('Also one linear probe per layer, same batches and epochs (probe-layers.json)'),
  knn: z
    .boolean()
    .default(false)
    .describe('Also a weighted k-NN on the same pooled features, cosine similarity (knn.json)'),
  knnK: z.array(positiveInt).min(1).default([20, 200]).describe('Neighbour counts of the k-NN'),
  knnTemperature: z
    .number()
    .positive()
    .default(0.07)
    .describe('Votes weighted by exp(similarity / temperature)'),
});

/** "an identity", "a fixed-random". */
function article(word: string): string {
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

interface RuleIssue {
  /** Key path from the top of the config, e.g. ['rule', 'pooling', 'kernels']. */
  path: (string | number)[];
  message: string;
}

/**
 * Rule settings that contradict each other or the model, each with the reason. The engine's
 * check_config repeats these and adds those that need layer shapes (pool kernels that do not
 * fit a map, an identity B between layers of different sizes).
 */
export function ruleIssues(config: {
  rule: z.output<typeof ruleSchema>;
  model: { widths: number[]; inChannels: number };
  data: { imageSize: number };
}): RuleIssue[] {
  const { rule, model, data } = config;
  const issues: RuleIssue[] = [];
  const layers = model.widths.length;
  if (rule.pooling.kind === 'patch' && rule.pooling.kernels.length !== layers) {
    issues.push({
      path: ['rule', 'pooling', 'kernels'],
      message: `needs one kernel per layer (${layers}), got ${rule.pooling.kernels.length}`,
    });
  }
  const untrainable = rule.predictor.kind === 'identity' || rule.predictor.kind === 'fixed-random';
  if (rule.kind !== 'forward-forward' && rule.predictorDecay > 0 && untrainable) {
    issues.push({
      path: ['rule', 'predictorDecay'],
      message: `${article(rule.predictor.kind)} B has no trainable weights to decay; set it to 0`,
    });
  }
  if (rule.kind === 'contrastive' && rule.gradientFlow === 'local') {
    if (rule.score.f === 'infonce' && rule.context !== 'same') {
      issues.push({
        path: ['rule', 'context'],
        message:
          'layer-wise InfoNCE contrasts the two views of the same layer through one shared ' +
          'projection; use context "same"',
      });
    }
    if (rule.predictorTraining === 'match-bp' && untrainable) {
      issues.push({
        path: ['rule', 'predictorTraining'],
        message:
          'match-bp trains B toward the backprop error signal, but ' +
          `${article(rule.predictor.kind)} B has nothing to train`,
      });
    }
    if (rule.predictorTraining === 'match-bp' && rule.schedule === 'layerwise') {
      issues.push({
        path: ['rule', 'schedule'],
        message: 'match-bp needs the end-to-end graph for the backprop error signal; use "detach"',
      });
    }
  }
  if (rule.kind === 'forward-forward') {
    if (rule.predictor.kind !== 'identity') {
      issues.push({
        path: ['rule', 'predictor', 'kind'],
        message:
          `forward-forward scores each sample against itself, so a ${rule.predictor.kind} B ` +
          'would make the goodness z.Bz: a trainable B could raise or lower every goodness ' +
          'without the encoder learning anything, and a random one makes it indefinite; use ' +
          '"identity"',
      });
    }
    if (rule.score.f === 'infonce') {
      issues.push({
        path: ['rule', 'score', 'f'],
        message:
          "infonce contrasts a sample with other views; forward-forward's context is the sample " +
          'itself, use "logistic"',
      });
    }
  }
  if (rule.kind === 'clapp-2021') {
    issues.push(...clapp2021Issues(rule, model.inChannels, data.imageSize));
  }
  return issues;
}

function clapp2021Issues(
  rule: z.output<typeof clapp2021RuleSchema>,
  inChannels: number,
  imageSize: number,
): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (rule.score.f === 'infonce') {
    issues.push({
      path: ['rule', 'score', 'f'],
      message:
        'the 2021 multiclass (CPC) loss over 16 negatives is not implemented; use kind ' +
        '"contrastive" with infonce for layer-wise InfoNCE',
    });
  }
  if (rule.eitherPosOrNeg && (rule.score.f === 'linear' || rule.score.f === 'phyll')) {
    issues.push({
      path: ['rule', 'eitherPosOrNeg'],
      message:
        `"${rule.score.f}" scores u_pos - u_neg as one term, so an image cannot take only its ` +
        'positive or only its negative term; set eitherPosOrNeg to false',
    });
  }
  if (rule.gradientFlow === 'global' && rule.schedule === 'layerwise') {
    issues.push({
      path: ['rule', 'schedule'],
      message:
        'layerwise updates one layer at a time, but a global rule backpropagates one loss ' +
        'through every layer; use "detach"',
    });
  }
  if (inChannels !== 1) {
    issues.push({
      path: ['model', 'inChannels'],
      message:
        'rule kind clapp-2021 encodes grey patches (paper-spec 6.3): set it to 1 (colour ' +
        'images are converted to luminance)',
    });
  }
  if (rule.patchSize > imageSize) {
    issues.push({
      path: ['rule', 'patchSize'],
      message: `a ${rule.patchSize} px patch does not fit the ${imageSize} px image`,
    });
    return issues;
  }
  const rows = Math.floor((imageSize - rule.patchSize) / rule.patchStride) + 1;
  const farthest = rule.predictionSteps + rule.skipRows;
  if (farthest >= rows) {
    issues.push({
      path: ['rule', 'predictionSteps'],
      message:
        `step ${rule.predictionSteps} predicts ${farthest} rows ahead, but ${rule.patchSize} px ` +
        `patches at stride ${rule.patchStride} give a ${rows}x${rows} grid on a ${imageSize} ` +
        `px image; use at most ${Math.max(rows - 1 - rule.skipRows, 0)} steps or a larger image`,
    });
  }
  return issues;
}

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
    const { model } = config;
    if (config.probe.pools !== null && config.probe.pools.length !== model.widths.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['probe', 'pools'],
        message:
          `needs one kernel per layer (${model.widths.length}), ` +
          `got ${config.probe.pools.length}`,
      });
    }
    for (const issue of ruleIssues(config)) {
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    }
  });

/** A config as written in a file: defaults not yet applied. */
export type RawConfig = z.input<typeof configSchema>;
/** A resolved config: every default applied, every value checked. */
export type Config = z.output<typeof configSchema>;
export type Rule = Config['rule'];
