/**
 * postinstall: create or check the Python environment. Runs on every `npm install`/`npm ci`;
 * a second run with an unchanged dependency spec returns at once.
 */
import { setupPythonEnvironment } from '../src/bridge/environment.js';
import { LocalsslError } from '../src/errors.js';

try {
  const started = Date.now();
  const result = await setupPythonEnvironment();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(
    `localssl: Python environment ${result.action} (${result.python}, ${seconds} s)\n`,
  );
} catch (error) {
  const message = error instanceof LocalsslError ? error.message : String(error);
  process.stderr.write(`localssl: ${message}\n`);
  process.exitCode = 1;
}
