export {
  type DType,
  encodeSafetensors,
  type Float32Tensor,
  parseSafetensors,
  readSafetensors,
  type SafetensorsContents,
  type Tensor,
  writeSafetensors,
} from './safetensors.js';
