import { z } from 'zod';
import { venvState } from './bridge/environment.js';
import type { PythonBridge } from './bridge/index.js';
import { resolvePythonInterpreter } from './bridge/python-path.js';
import { engine } from './engine.js';

const doctorSchema = z.object({
  python: z.string(),
  python_version: z.string(),
  localssl_version: z.string(),
  schema_version: z.number(),
  torch_version: z.string(),
  numpy_version: z.string(),
  safetensors_version: z.string(),
  cuda_available: z.boolean(),
  cuda_version: z.string().nullable(),
  device_name: z.string(),
  device_count: z.number(),
  bf16_supported: z.boolean(),
  threads: z.number(),
  cpu_count: z.number().nullable(),
});

export type DoctorReport = z.infer<typeof doctorSchema> & {
  interpreter: string;
  venv: ReturnType<typeof venvState>;
};

/** What the Python side can do here: interpreter, versions, CUDA and device, threads, venv. */
export async function doctor(bridge: PythonBridge = engine()): Promise<DoctorReport> {
  const interpreter = resolvePythonInterpreter();
  const report = await bridge.call('doctor', {}, doctorSchema);
  return { ...report, interpreter, venv: venvState() };
}
