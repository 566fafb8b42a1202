import { describe, expect, it } from 'vitest';
import { readVector } from '../../helpers/vectors.js';
import { addToCollateral, emptyCollateral, recognizeCollateral } from '../../../src/collateral/recognize.js';

describe('recognizeCollateral on NVIDIA collateral', () => {
  const kinds = (path: string): string[] => recognizeCollateral(readVector('nvidia', path), path).map((i) => i.kind);

  it('recognizes RIM XML, OCSP responses, the NRAS JWKS and the device root', () => {
    expect(kinds('hopper-550.90.07-e2e/driver_rim_NV_GPU_DRIVER_GH100_550.90.07.xml')).toEqual(['rim']);
    expect(kinds('hopper-535.86.09-negatives/vbios_rim_1010_0200_882_96005E0001_PROD.swidtag')).toEqual(['rim']);
    expect(kinds('hopper-550.90.07-e2e/ocsp/gpu_L4_GSP_BROM.ocsp.der')).toEqual(['ocsp']);
    expect(kinds('nras-jwks/nras_jwks_2026-06-29T0208Z.json')).toEqual(['jwks']);
    expect(kinds('roots/nvidia_device_identity_ca.pem')).toEqual(['certificate']);
  });

  it('unwraps the RIM service JSON answer into the signed XML it carries', () => {
    const xml = readVector('nvidia', 'hopper-550.90.07-e2e/vbios_rim_NV_GPU_VBIOS_1010_0200_882_96009F0001.xml');
    const answer = JSON.stringify({ id: 'NV_GPU_VBIOS_1010_0200_882_96009F0001', rim: Buffer.from(xml).toString('base64'), sha256: 'x' });
    const items = recognizeCollateral(new Uint8Array(Buffer.from(answer)), 'rim.json');
    expect(items.map((i) => i.kind)).toEqual(['rim']);
    expect(addToCollateral(emptyCollateral(), items).rims[0]).toBe(Buffer.from(xml).toString('utf8'));
    const notRim = JSON.stringify({ rim: Buffer.from('hello').toString('base64') });
    expect(() => recognizeCollateral(new Uint8Array(Buffer.from(notRim)), 'x.json')).toThrowError(expect.objectContaining({ code: 'ERR_COLLATERAL_UNRECOGNIZED' }));
  });
});
