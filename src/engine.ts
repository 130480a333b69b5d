import { z } from 'zod';
import { PythonBridge, type PythonBridgeOptions } from './bridge/index.js';
import type { Config } from './config/schema.js';
import { ConfigError, PythonError } from './errors.js';

let shared: PythonBridge | undefined;

/**
 * The process-wide bridge for short calls into the engine, started on its first call. pythonia
 * allows one per process; library users who need other options create it first with them.
 */
export function engine(options: PythonBridgeOptions = {}): PythonBridge {
  shared ??= new PythonBridge(options);
  return shared;
}

/** End the shared bridge's Python process, if one was started. */
export async function closeEngine(): Promise<void> {
  const bridge = shared;
  shared = undefined;
  await bridge?.close();
}

const configCheckSchema = z.object({
  layer_shapes: z.array(z.array(z.number()).length(3)),
  encoder_parameters: z.number(),
  head_parameters: z.number(),
  probe_pools: z.array(z.number()),
});

export type ConfigCheck = z.infer<typeof configCheckSchema>;

/**
 * Let the engine build the model a config describes (on the meta device, so nothing is
 * allocated): catches what the schema cannot, such as a pool kernel larger than its map.
 */
export async function checkConfig(
  config: Config,
  where: string,
  bridge: PythonBridge = engine(),
): Promise<ConfigCheck> {
  try {
    return await bridge.call('check_config', { config }, configCheckSchema);
  } catch (error) {
    if (error instanceof PythonError && ['ValueError', 'ConfigError'].includes(error.pythonType)) {
      throw new ConfigError(`${where}: ${error.pythonMessage}`);
    }
    throw error;
  }
}
