// Decodes evidence items from their JSON wire form (docs/design.md "Release protocol", step 3) into
// EvidenceItems.
import { EvidenceError } from '../errors.js';
import { fromAnyBase64 } from '../encoding.js';
import { EVIDENCE_TYPES, type EvidenceItem, type EvidenceType } from './types.js';

type Json = Record<string, unknown>;

function bytesField(item: Json, field: string, index: number): Uint8Array {
  const value = item[field];
  const bytes = typeof value === 'string' ? fromAnyBase64(value) : undefined;
  if (!bytes || bytes.length === 0) {
    throw new EvidenceError('ERR_EVIDENCE_MALFORMED', `evidence[${index}].${field} must be non-empty base64.`);
  }
  return bytes;
}

function stringField(item: Json, field: string, index: number): string {
  const value = item[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new EvidenceError('ERR_EVIDENCE_MALFORMED', `evidence[${index}].${field} must be a non-empty string.`);
  }
  return value;
}

const ALLOWED_FIELDS: Record<EvidenceType, readonly string[]> = {
  snp: ['type', 'report', 'certs'],
  tdx: ['type', 'quote'],
  sgx: ['type', 'quote'],
  'nvidia-gpu': ['type', 'report', 'certChain'],
  'nvidia-nras': ['type', 'token'],
  nitro: ['type', 'document'],
};

/** Decodes one wire item; `index` is used in error messages. */
export function decodeEvidenceItem(value: unknown, index = 0): EvidenceItem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EvidenceError('ERR_EVIDENCE_MALFORMED', `evidence[${index}] must be an object.`);
  }
  const item = value as Json;
  const type = item['type'];
  if (typeof type !== 'string' || !(EVIDENCE_TYPES as readonly string[]).includes(type)) {
    throw new EvidenceError(
      'ERR_EVIDENCE_UNSUPPORTED',
      `evidence[${index}].type must be one of ${EVIDENCE_TYPES.join(', ')}.`,
    );
  }
  const evidenceType = type as EvidenceType;
  const unknown = Object.keys(item).filter((k) => !ALLOWED_FIELDS[evidenceType].includes(k));
  if (unknown.length > 0) {
    throw new EvidenceError('ERR_EVIDENCE_MALFORMED', `evidence[${index}] has unknown field "${unknown[0]}".`);
  }
  switch (evidenceType) {
    case 'snp': {
      const certs = item['certs'] ?? [];
      if (!Array.isArray(certs)) {
        throw new EvidenceError('ERR_EVIDENCE_MALFORMED', `evidence[${index}].certs must be an array of base64 strings.`);
      }
      return {
        type: 'snp',
        report: bytesField(item, 'report', index),
        certs: certs.map((_, i) => bytesField(certs as unknown as Json, String(i), index)),
      };
    }
    case 'tdx':
    case 'sgx':
      return { type: evidenceType, quote: bytesField(item, 'quote', index) };
    case 'nvidia-gpu':
      return { type: 'nvidia-gpu', report: bytesField(item, 'report', index), certChain: stringField(item, 'certChain', index) };
    case 'nvidia-nras':
      return { type: 'nvidia-nras', token: stringField(item, 'token', index) };
    case 'nitro':
      return { type: 'nitro', document: bytesField(item, 'document', index) };
  }
}

/** The bytes a digest of this evidence item is computed over (for audit and caching). */
export function evidenceBytes(item: EvidenceItem): Uint8Array[] {
  switch (item.type) {
    case 'snp':
      return [item.report, ...item.certs];
    case 'tdx':
    case 'sgx':
      return [item.quote];
    case 'nvidia-gpu':
      return [item.report, Buffer.from(item.certChain)];
    case 'nvidia-nras':
      return [Buffer.from(item.token)];
    case 'nitro':
      return [item.document];
  }
}
