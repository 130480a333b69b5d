export { type JobResult, type RunJobOptions, runJob } from './job.js';
export { type Envelope, type JobEvent, jobEventSchema, pyNumber } from './protocol.js';
export {
  DEFAULT_VENV_PYTHON,
  PACKAGE_ROOT,
  PYTHON_PACKAGE_DIR,
  resolvePythonInterpreter,
} from './python-path.js';
export { type CallOptions, PythonBridge, type PythonBridgeOptions } from './pythonia-client.js';
