// The server's problem+json errors, carried as one Error type through the console.
export interface PolicyProblem {
  code: string;
  path: string;
  rule?: string;
  message: string;
  offset?: number;
  line?: number;
  column?: number;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code: string;
  detail: string;
  requestId?: string;
  problems?: PolicyProblem[];
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.code}: ${problem.detail}`);
  }
  get status(): number {
    return this.problem.status;
  }
}

export function toProblem(status: number, body: unknown): Problem {
  if (body && typeof body === 'object' && 'code' in body) return { status, ...(body as Omit<Problem, 'status'>) } as Problem;
  return { status, code: 'ERR_HTTP', detail: `The server answered ${status}.` };
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.problem.detail} (${err.problem.code})`;
  return err instanceof Error ? err.message : String(err);
}
