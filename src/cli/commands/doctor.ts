import { doctor } from '../../doctor.js';
import { printJson } from '../output.js';

/** `localssl doctor`: what the Python side can do on this machine. */
export async function doctorCommand(args: { json: boolean }): Promise<number> {
  const report = await doctor();
  if (args.json) {
    printJson(report);
    return 0;
  }
  const device = report.cuda_available
    ? `CUDA ${report.cuda_version} (${report.device_count} x ${report.device_name}, ` +
      `bf16 ${report.bf16_supported ? 'yes' : 'no'})`
    : 'no CUDA: training runs on the CPU';
  const lines = [
    ['interpreter', report.interpreter],
    ['python', report.python_version],
    ['torch', report.torch_version],
    ['numpy / safetensors', `${report.numpy_version} / ${report.safetensors_version}`],
    ['device', device],
    ['threads', `${report.threads} torch threads, ${report.cpu_count ?? '?'} CPUs`],
    ['venv', report.venv],
    ['engine', `localssl ${report.localssl_version}, config schema ${report.schema_version}`],
  ];
  const width = Math.max(...lines.map(([key]) => key!.length));
  for (const [key, value] of lines) process.stdout.write(`${key!.padEnd(width)}  ${value}\n`);
  return 0;
}
