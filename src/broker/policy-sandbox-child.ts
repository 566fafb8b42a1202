// The policy sandbox's child process (docs/policy-cost.md): compiles and evaluates one policy document
// over one set of claims per message, under the heap limit the parent started it with. It holds no
// secret (its environment is empty) and exits when the parent goes away.
import { createHash } from 'node:crypto';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.js';
import { evaluatePolicy, type PolicyInput } from '../policy/evaluate.js';
import { LruMemo } from '../evidence/memo.js';
import { isKeywardError } from '../errors.js';

export interface SandboxRequest {
  readonly id: number;
  readonly document: unknown;
  readonly input: PolicyInput;
}

export type SandboxReply =
  | { readonly id: number; readonly decision: ReturnType<typeof evaluatePolicy> }
  | { readonly id: number; readonly error: { readonly code: string | undefined; readonly message: string } };

const compiled = new LruMemo(64);

function decide(request: SandboxRequest): SandboxReply {
  try {
    const key = createHash('sha256').update(JSON.stringify(request.document)).digest('hex');
    // Costs were judged by the parent when the policy was saved and loaded; here the process's limits rule.
    const policy = compiled.remember<CompiledPolicy>(key, () => compilePolicy(request.document, { maxCost: Infinity }));
    return { id: request.id, decision: evaluatePolicy(policy, request.input) };
  } catch (err) {
    return { id: request.id, error: { code: isKeywardError(err) ? err.code : undefined, message: (err as Error).message } };
  }
}

process.on('message', (request: SandboxRequest) => {
  process.send?.(decide(request));
});
process.on('disconnect', () => process.exit(0));
