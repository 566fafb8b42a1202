// `keyward approval list|show|reject|approve`: changes waiting for a quorum of owners. `show`, `reject` and
// `approve` first recompute the digest from the change JSON the server returns, so a person sees that the
// digest approvers sign is the change shown. Approving needs a passkey, which only the console can use.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../broker/audit.js';
import { consoleBase, dispatch, output, parseCommand, printFields, printTable, seg, type Admin, type Subcommand } from './admin-http.js';
import { UsageError, type CliIo } from './main.js';

interface Approval {
  id: string;
  operation: string;
  target?: string;
  digest: string;
  required: number;
  approvedBy: unknown[];
  state: string;
  expiresAt: string;
  tenant?: string;
  change?: unknown;
}

/** Exit code of `approval approve`: the step needs a person with a passkey, in the console. */
export const EXIT_NEEDS_PASSKEY = 3;

const STATES = ['pending', 'applied', 'rejected', 'cancelled', 'failed'];

/** The approval of GET /v1/approvals/{id} (`{"approval", "change"}`), with the change it carries. */
function unwrap(json: Approval | { approval: Approval; change?: unknown }): Approval {
  if (!('approval' in json)) return json;
  return json.change === undefined ? json.approval : { ...json.approval, change: json.change };
}

/** Whether SHA-256 of the change's canonical JSON (RFC 8785) is the digest the approvers sign. */
export function digestMatches(approval: Approval): boolean | undefined {
  if (approval.change === undefined) return undefined;
  return createHash('sha256').update(canonicalJson(approval.change)).digest('hex') === approval.digest;
}

/** The digest and whether it is the change's (`change` names where the change is: printed below, or not). */
function digestLine(approval: Approval, change = 'the change below'): string {
  const matches = digestMatches(approval);
  if (matches === undefined) return `${approval.digest} (the server sent no change to check it against)`;
  return `${approval.digest}${matches ? ` (matches ${change})` : ` (DOES NOT MATCH ${change}: do not approve)`}`;
}

function consoleUrl(admin: Admin, id: string): string {
  return `${consoleBase(admin)}/console/#/approvals/${seg(id)}`;
}

function printApproval(io: CliIo, approval: Approval): void {
  printFields(io, [
    ['id', approval.id],
    ['operation', approval.operation],
    ...(approval.target !== undefined ? [['target', approval.target] as const] : []),
    ...(approval.tenant !== undefined ? [['tenant', approval.tenant] as const] : []),
    ['state', approval.state],
    ['approvals', `${approval.approvedBy.length} of ${approval.required}`],
    ['expires', approval.expiresAt],
    ['digest', digestLine(approval)],
  ]);
  if (approval.change !== undefined) io.out(`change:\n${JSON.stringify(approval.change, null, 2)}\n`);
}

/** The approval, read and digest-checked before anything else is done with it. */
async function readApproval(admin: Admin, args: string[]) {
  const { values, positionals } = parseCommand(args, {}, { min: 1, max: 1, names: 'the approval id' });
  const answer = await admin.request('GET', `/v1/approvals/${seg(positionals[0]!)}`);
  const approval = unwrap(answer.json as Approval);
  return { values, answer, approval, matches: digestMatches(approval) };
}

const list: Subcommand = async (args, io, admin) => {
  const { values } = parseCommand(args, { state: { type: 'string' } }, { min: 0, max: 0, names: '' });
  const state = typeof values['state'] === 'string' ? values['state'] : 'pending';
  if (!STATES.includes(state)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
  const answer = await admin.request('GET', `/v1/approvals?state=${encodeURIComponent(state)}`);
  return output(io, values, answer, (page: { items: Approval[] }) =>
    printTable(io, ['ID', 'OPERATION', 'STATE', 'APPROVALS', 'EXPIRES'], page.items.map((a) => [a.id, a.operation, a.state, `${a.approvedBy.length}/${a.required}`, a.expiresAt])),
  );
};

const show: Subcommand = async (args, io, admin) => {
  const { values, answer, approval, matches } = await readApproval(admin, args);
  output(io, values, answer, () => {
    printApproval(io, approval);
    if (approval.state === 'pending') io.out(`approve or reject it with a passkey in the console: ${consoleUrl(admin, approval.id)}\n`);
  });
  return matches === false ? 1 : 0;
};

const reject: Subcommand = async (args, io, admin) => {
  const { values, approval } = await readApproval(admin, args);
  // Rejecting is safe whatever the digest says (nothing applies); the check is shown first all the same.
  if (!values['json']) io.out(`digest: ${digestLine(approval, 'its change')}\n`);
  const answer = await admin.request('POST', `/v1/approvals/${seg(approval.id)}/reject`);
  return output(io, values, answer, (json: { approval: Approval }) => io.out(`approval ${json.approval.id} (${json.approval.operation}) is ${json.approval.state}\n`));
};

const approve: Subcommand = async (args, io, admin) => {
  const { values, answer, approval, matches } = await readApproval(admin, args);
  output(io, values, answer, () => printApproval(io, approval));
  // Why: an approval is a WebAuthn assertion over the digest; an API token never approves (the server
  // refuses it with ERR_APPROVAL_PASSKEY_REQUIRED), so the CLI sends nothing and says where to do it.
  const check = matches === false ? ' — and its digest DOES NOT MATCH the change: do not approve it' : '';
  io.err(`keyward approval: ERR_APPROVAL_PASSKEY_REQUIRED: approving needs an owner's passkey, which the command line cannot hold; approve it in the console: ${consoleUrl(admin, approval.id)}${check}\n`);
  return EXIT_NEEDS_PASSKEY;
};

const SUBCOMMANDS: Record<string, Subcommand> = { list, show, reject, approve };

export function approvalCommand(args: string[], io: CliIo): Promise<number> {
  return dispatch('approval', SUBCOMMANDS, args, io);
}
