// Evaluates release policies within hard limits (docs/policy-cost.md). A policy whose worst-case cost
// estimate is small, over claims within the bounds that estimate assumed, runs inline: the release hot
// path pays nothing. Anything else runs in a child process with a timeout and a heap cap, so even an
// evaluation the estimate got wrong can neither stall the event loop nor take the service's memory.
//
// A child process, not a worker thread: a worker that outgrows its resourceLimits in one large allocation
// (the `[...a, ...b]` a list concatenation makes) aborts the whole process; a child only aborts itself.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KeywardError, RequestError, ServiceError } from '../errors.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { claimsWithinBounds } from '../policy/cost.js';
import { evaluatePolicy, type PolicyDecision, type PolicyInput } from '../policy/evaluate.js';
import type { SandboxReply, SandboxRequest } from './policy-sandbox-child.js';

/** Policies estimated at or below this many steps (a few milliseconds at most) evaluate inline. */
export const INLINE_COST = 50_000;
/** Old-generation heap of the sandbox process. */
export const SANDBOX_MEMORY_MB = 128;

/** The child's script, built to dist/ (src/ and dist/ both sit one level below the package root). */
const CHILD_SCRIPT = fileURLToPath(new URL('../../dist/broker/policy-sandbox-child.js', import.meta.url));

export interface PolicySandboxOptions {
  /** Longest a sandboxed evaluation may run, milliseconds. */
  readonly timeoutMs: number;
  readonly inlineCost?: number;
  readonly memoryMb?: number;
}

interface Job {
  readonly request: SandboxRequest;
  resolve(decision: PolicyDecision): void;
  reject(err: unknown): void;
}

function limitExceeded(what: string, cause?: unknown): RequestError {
  return new RequestError('ERR_POLICY_LIMIT_EXCEEDED', `Evaluating the policy exceeded its ${what} limit; the policy does not allow the release.`, cause === undefined ? {} : { cause });
}

function shuttingDown(): ServiceError {
  return new ServiceError('ERR_NOT_READY', 'keyward is shutting down.');
}

export class PolicySandbox {
  private child: ChildProcess | undefined;
  private readonly queue: Job[] = [];
  private running: { job: Job; timer: NodeJS.Timeout; child: ChildProcess } | undefined;
  private nextId = 1;
  private closed = false;
  /** How many evaluations ran inline and how many in the sandbox (for operators and benchmarks). */
  readonly stats = { inline: 0, sandboxed: 0 };

  constructor(private readonly opts: PolicySandboxOptions) {}

  /** Evaluates inline when cheap and bounded; otherwise in the sandbox, failing with ERR_POLICY_LIMIT_EXCEEDED. */
  async evaluate(policy: CompiledPolicy, input: PolicyInput): Promise<PolicyDecision> {
    if (policy.cost <= (this.opts.inlineCost ?? INLINE_COST) && claimsWithinBounds(input.cpu, input.gpus)) {
      this.stats.inline++;
      return evaluatePolicy(policy, input);
    }
    if (this.closed) throw shuttingDown();
    this.stats.sandboxed++;
    return new Promise<PolicyDecision>((resolve, reject) => {
      const request = { id: this.nextId++, document: policy.document, input: { cpu: input.cpu ?? null, gpus: input.gpus ?? [] } };
      this.queue.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(shuttingDown());
    this.finish(undefined, shuttingDown());
    this.stopChild();
  }

  private dispatch(): void {
    if (this.running || this.queue.length === 0) return;
    const job = this.queue.shift() as Job;
    const child = this.startedChild();
    // The clock starts when the job starts, not while it waits behind another.
    const timer = setTimeout(() => {
      this.stopChild();
      this.finish(child, limitExceeded('time'));
    }, this.opts.timeoutMs);
    this.running = { job, timer, child };
    child.send(job.request);
  }

  private startedChild(): ChildProcess {
    if (this.child) return this.child;
    const memory = this.opts.memoryMb ?? SANDBOX_MEMORY_MB;
    const child = fork(CHILD_SCRIPT, [], {
      // No secret reaches the sandbox: an empty environment, no inherited flags.
      env: {},
      execArgv: [`--max-old-space-size=${memory}`, '--max-semi-space-size=16'],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    child.unref();
    child.channel?.unref();
    child.on('message', (reply: SandboxReply) => {
      if (this.running?.job.request.id !== reply.id) return;
      if ('decision' in reply) this.finish(child, undefined, reply.decision);
      else this.finish(child, new ServiceError('ERR_INTERNAL', 'The policy sandbox failed.', { cause: reply.error }));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      // V8 aborts a process that reaches its heap limit (SIGABRT, or 134 through a shell).
      const outOfMemory = signal === 'SIGABRT' || code === 134;
      this.finish(child, outOfMemory ? limitExceeded('memory') : new ServiceError('ERR_INTERNAL', 'The policy sandbox stopped.', { cause: { code, signal } }));
    });
    child.on('error', (err) => {
      if (this.child === child) this.child = undefined;
      this.finish(child, new ServiceError('ERR_INTERNAL', 'The policy sandbox failed.', { cause: err }));
    });
    this.child = child;
    return child;
  }

  /** Settles the job running on `child` (any job when undefined) and starts the next one. */
  private finish(child: ChildProcess | undefined, err: KeywardError | undefined, decision?: PolicyDecision): void {
    const running = this.running;
    if (!running || (child !== undefined && running.child !== child)) return;
    this.running = undefined;
    clearTimeout(running.timer);
    if (err) running.job.reject(err);
    else running.job.resolve(decision as PolicyDecision);
    if (!this.closed) this.dispatch();
  }

  private stopChild(): void {
    const child = this.child;
    this.child = undefined;
    child?.kill('SIGKILL');
  }
}
