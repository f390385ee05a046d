import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../shared/serving/errors.ts';
import {
  externalTensors,
  inlineExternalData,
  OnnxWireError,
} from '../../shared/serving/onnx-external-data.ts';
import {
  denseNetworkOnnx,
  denseNetworkWithExternalData,
  randomMlpLayers,
  readFloatInitializers,
} from '../support/onnx-models.ts';

/**
 * ONNX external data (`onnx.save_model(..., save_as_external_data=True)`, MLflow 3's default): the
 * tensors it names, and the graph with their bytes put back, identical to the model saved whole.
 */

const layers = randomMlpLayers(16, [64], 7);

describe('externalTensors', () => {
  it('names each tensor kept outside the graph, with its file, offset and length (1 KB threshold)', () => {
    const { onnx, data } = denseNetworkWithExternalData(16, layers, { location: 'abc.data' });
    // w0 is 16 x 64 floats (4 KiB) and b0 64 floats (256 B, under the threshold); w1 64 x 1 (256 B).
    expect(externalTensors(onnx)).toEqual([{ tensor: 'w0', location: 'abc.data', offset: 0, length: 4096 }]);
    expect(data.byteLength).toBe(4096);
    expect(externalTensors(denseNetworkOnnx(16, layers))).toEqual([]);
  });

  it('reads locations relative to the ONNX file and refuses any that leave the model directory', () => {
    const at = (location: string) =>
      denseNetworkWithExternalData(16, layers, { location, threshold: 0 }).onnx;
    expect(externalTensors(at('data/w.bin'), 'onnx/model.onnx')[0]?.location).toBe('onnx/data/w.bin');
    for (const location of [
      '../w.data',
      '/etc/passwd',
      'a/../../w',
      './w.data',
      'a\\w.data',
      'C:w',
      'a//w',
    ]) {
      expect(() => externalTensors(at(location)), location).toThrow(ModelLoadError);
      expect(() => externalTensors(at(location)), location).toThrow(/is not a file of the model directory/);
    }
  });

  it('says the bytes are not protobuf (and leaves what is wrong to ONNX Runtime)', () => {
    expect(() => externalTensors(new TextEncoder().encode('not a protobuf'))).toThrow(OnnxWireError);
  });
});

describe('inlineExternalData', () => {
  it('gives back the model saved whole: the same tensors, byte for byte', () => {
    const { onnx, location, data } = denseNetworkWithExternalData(16, layers, { threshold: 0 });
    expect(externalTensors(onnx).map((t) => t.tensor)).toEqual(['w0', 'b0', 'w1', 'b1']);
    const inlined = inlineExternalData(onnx, new Map([[location, data]]));
    expect(externalTensors(inlined)).toEqual([]);
    const whole = readFloatInitializers(denseNetworkOnnx(16, layers));
    const rebuilt = readFloatInitializers(inlined);
    expect([...rebuilt.keys()]).toEqual([...whole.keys()]);
    for (const [name, tensor] of whole) {
      expect(rebuilt.get(name)?.dims, name).toEqual(tensor.dims);
      expect(
        Buffer.from(rebuilt.get(name)?.values.buffer as ArrayBuffer).equals(
          Buffer.from(tensor.values.buffer),
        ),
      ).toBe(true);
    }
  });

  it('returns a model without external data as it is, without copying it', () => {
    const whole = denseNetworkOnnx(16, layers);
    expect(inlineExternalData(whole, new Map())).toBe(whole);
  });

  it('refuses a tensor that reads past the end of its file, naming both', () => {
    const { onnx, location, data } = denseNetworkWithExternalData(16, layers, { threshold: 0 });
    expect(() => inlineExternalData(onnx, new Map([[location, data.subarray(0, 100)]]))).toThrow(
      `The ONNX tensor 'w0' reads bytes 0 to 4096 of ${location}, which has 100`,
    );
  });
});
