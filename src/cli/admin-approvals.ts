// `keyward approval list|show`: pending quorum approvals. `show` recomputes the digest from the change
// JSON the server returns, so an approver sees that the digest they will sign is the change shown.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../broker/audit.js';
import { openAdmin, output, parseCommand, printFields, printTable, seg } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Approval {
  id: string;
  operation: string;
  digest: string;
  required: number;
  approvedBy: unknown[];
  state: string;
  expiresAt: string;
  tenant?: string;
  change?: unknown;
}

/** The approval object of an answer that is one, or wraps one in `approval`. */
function unwrap(json: Approval | { approval: Approval }): Approval {
  return 'approval' in json ? json.approval : json;
}

/** Whether SHA-256 of the change's canonical JSON (RFC 8785) is the digest the approvers sign. */
export function digestMatches(approval: Approval): boolean | undefined {
  if (approval.change === undefined) return undefined;
  return createHash('sha256').update(canonicalJson(approval.change)).digest('hex') === approval.digest;
}

export async function approvalCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const admin = openAdmin();
  switch (sub) {
    case 'list': {
      const { values } = parseCommand(rest, { state: { type: 'string' } }, { min: 0, max: 0, names: '' });
      const state = typeof values['state'] === 'string' ? values['state'] : 'pending';
      const answer = await admin.request('GET', `/v1/approvals?state=${encodeURIComponent(state)}`);
      return output(io, values, answer, (page: { items: Approval[] }) =>
        printTable(io, ['ID', 'OPERATION', 'STATE', 'APPROVALS', 'EXPIRES'], page.items.map((a) => [a.id, a.operation, a.state, `${a.approvedBy.length}/${a.required}`, a.expiresAt])),
      );
    }
    case 'show': {
      const { values, positionals } = parseCommand(rest, {}, { min: 1, max: 1, names: 'the approval id' });
      const answer = await admin.request('GET', `/v1/approvals/${seg(positionals[0]!)}`);
      const approval = unwrap(answer.json as Approval);
      const matches = digestMatches(approval);
      output(io, values, answer, () => {
        printFields(io, [
          ['id', approval.id],
          ['operation', approval.operation],
          ...(approval.tenant !== undefined ? [['tenant', approval.tenant] as const] : []),
          ['state', approval.state],
          ['approvals', `${approval.approvedBy.length} of ${approval.required}`],
          ['expires', approval.expiresAt],
          ['digest', `${approval.digest}${matches === undefined ? '' : matches ? ' (matches the change below)' : ' (DOES NOT MATCH the change below: do not approve)'}`],
        ]);
        if (approval.change !== undefined) io.out(`change:\n${JSON.stringify(approval.change, null, 2)}\n`);
        if (approval.state === 'pending') io.out(`approve or reject it with a passkey in the console: ${admin.baseUrl}/console/\n`);
      });
      return matches === false ? 1 : 0;
    }
    default:
      throw new UsageError('approval needs a subcommand: list or show');
  }
}
