// The `keyward` command line (README.md "Command line"): serve, migrate, kek rotate|status, verify, the
// admin commands and the workload-side commands. Exit codes: 0 success, 1 failure, 2 usage error, 3 a
// step that needs a person's passkey (approval approve).
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Writable } from 'node:stream';
import { KeywardError } from '../errors.js';

export class UsageError extends Error {}

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Raw bytes to standard output (a released key with `--out -`, unsealed plaintext). */
  readonly stdout?: Writable;
  /** True when standard error is a terminal (progress bars are drawn only then). */
  readonly errIsTty?: boolean;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stdout: process.stdout,
  get errIsTty() {
    return process.stderr.isTTY === true;
  },
};

type Command = (args: string[], io: CliIo) => Promise<number>;

export const USAGE = `usage: keyward <command> [options]

commands:
  serve                     run the service (configured by KEYWARD_* environment variables)
  migrate                   apply database migrations and exit
  doctor [--json]           check the database, migrations, KEKs, collateral, anchors, clocks and replicas;
                            each problem with its fix (exit 1 when a check fails)
  kek status                list KEKs and how many key versions each seals
  kek rotate [--target NAME]
                            rotate the root KEK (to a KEYWARD_KEK_TARGETS entry) and reseal everything
  verify --evidence FILE [--type T] [--collateral PATH]... [--at RFC3339] [--nonce HEX] [--json]
                            verify attestation evidence offline
  dev ca --out DIR [--data-dir DIR]
                            write the simulator's development CA roots and collateral (SIMULATED)
  dev evidence --simulate snp|tdx [--gpus N] [--measurement HEX] [--data-dir DIR] BIND_HEX
                            print simulated evidence bound to BIND_HEX as the JSON POST /v1/attest
                            takes (an evidence command for the Python SDK and other clients)

admin side (server KEYWARD_ADDR, default http://127.0.0.1:8750; token KEYWARD_TOKEN or 'keyward login';
--json prints the server's JSON exactly; docs/admin-cli.md maps every admin route to its command):
  login                     check an API token (prompted, or read from stdin) and store it for KEYWARD_ADDR
                            in $XDG_CONFIG_HOME/keyward/credentials.json (0600); KEYWARD_TOKEN overrides it
  status [--json]           the server's readiness and whether the token is valid
  health [--json]           the server's liveness (GET /healthz; no token)
  metrics [--json]          the server's Prometheus metrics (--json: {"samples": [{name, labels, value}]})
  whoami [--json]           the token's user, platform role and tenants
  key create --name N --kind model|dataset|generic [--description D] [--tenant T] [--json]
  key list [--kind K] [--state S] [--limit N] [--json]
  key show|versions|rotate|disable|enable|datakey|cancel-destroy ID [--json]
  key update ID [--description D] [--label K=V]... [--no-labels] [--rate-limit N|default] [--json]
  key releases ID [--from RFC3339] [--to RFC3339] [--outcome released|denied] [--limit N]
               [--json|--format json|csv]
  key schedule-destroy ID [--pending-days 7..30] [--json]
  key lift-hold ID [--json]
  key destroy ID --yes [--json]
                            keys: create, list, read, change, add a version, refuse or allow releases, a data
                            key, who received it, destroy later (or cancel that), or destroy now, lift the
                            hold an anomaly alert placed
  policy create|validate --file FILE [--json]
                            store a release policy (YAML or JSON), or only type-check it
  policy list [--limit N] [--json]
  policy show ID [--version N] [--json]
  policy update ID --file FILE [--json]
  policy delete ID [--json]
  policy bind KEY_ID POLICY_ID|--none [--json]
  policy evaluate ID --claims FILE|--evidence FILE [--version N] [--json]
                            dry run: every rule's outcome and the values it read (exit 1 when denied)
  token create --name N --role admin|owner|operator|auditor [--scope S]... [--expires-in 90d] [--json]
  token list [--json]
  token revoke ID [--json]
                            API tokens for automation (the secret is printed once, at create)
  approval list [--state pending|applied|rejected|cancelled|failed] [--json]
  approval show|reject ID [--json]
  approval approve ID       changes waiting for a quorum of owners; each recomputes the digest first;
                            approving needs a passkey: approve prints the console's URL (exit 3)
  audit list [--action A] [--target T] [--outcome O] [--after SEQ] [--limit N] [--all] [--json]
  audit export [--tenant T] [--from SEQ] [--out FILE]
                            a chain of the audit log (a tenant's, or global for the platform) with the
                            signed checkpoints and keys that cover it, every page, as one JSON file
  audit keys [--json]        the public keys audit checkpoints are signed with (--json: the JWK set to pin)
  audit verify [FILE] [--key JWK_FILE] [--json]
                            the hash-chained audit log; verify asks the server, or checks FILE offline:
                            an export's chain, checkpoint signatures and heads (exit 1 names the first
                            bad row or checkpoint; --key pins the checkpoint key), or a plain
                            'audit list --all --json' chain
  tenant create NAME [--quorum N] [--json]
  tenant list [--json]
  tenant update TENANT --quorum N [--json]
  tenant invite TENANT --name N --role owner|auditor [--json]
  tenant members TENANT [--json]
  tenant remove TENANT USER_ID [--json]
                            tenants, and their members (invite answers an enrolment code for a passkey)
  collateral list [--kind K] [--source S] [--stale] [--limit N] [--json]
  collateral upload FILE... [--json]
  collateral delete|trust ID [--json]
                            the collateral the verifiers use; trust makes an uploaded JWK set or
                            certificate an NRAS signer
  evidence verify FILE [--nonce HEX] [--at RFC3339] [--json]
                            verify evidence with the server's anchors and collateral (exit 1 when not)
  kek status|rotate --remote [--target NAME] [--json]
                            the KEK commands above, over the admin API of a running server
  member role TENANT USER_ID owner|auditor [--json]
  member reenrol TENANT USER_ID [--json]
                            change a member's role, or issue a new enrolment code to an existing member
                            (both under the tenant's quorum: a pending change names its approval)
  import KEY_ID --file FILE [--alg RSA-OAEP-256|ECDH-ES+A256KW] [--json]
                            BYOK: import 16-64 bytes as the key's new version with single-use per-key
                            import parameters (any tenant)
  platform invite --name N --role admin|operator [--json]
                            a platform admin's or operator's single-use enrolment code for a passkey

workload side (inside the TEE, or with --simulate for development):
  agent release --server URL --key ID [--out FILE|-] [--force] [--format raw|hex|base64]
                [--wrapped-data-key W] [--key-version N] [EVIDENCE] [--timeout S] [--quiet]
                            attest and receive a key (or a data key); it is written only to --out
  seal --server URL [--token T] --key ID --in PATH --out PATH [--force] [--chunk-size N] [--timeout S]
       [--quiet]
                            seal a file or a directory of shards under a fresh data key
                            (the token may come from KEYWARD_TOKEN instead of --token)
  unseal --server URL --in PATH --out PATH|- [--force] [--key ID] [EVIDENCE] [--timeout S] [--quiet]
                            attest, receive the sealed file's data key, decrypt (--out -: to stdout;
                            an existing --out is replaced only with --force)

  EVIDENCE: [--simulate snp|tdx [--gpus N] [--measurement HEX]] [--gpu-evidence-cmd CMD]
            [--tee-key x25519|p384|rsa] [--data-dir DIR] [--tsm-root DIR]
            without --simulate, evidence comes from configfs-tsm (/sys/kernel/config/tsm/report)

  help [COMMAND]            show this text, or one command's (also: keyward COMMAND --help)
  --version                 print keyward's version

exit codes: 0 success, 1 failure (the error's ERR_* code is printed; a denied evaluate, a broken audit
chain, evidence not verified), 2 usage error, 3 needs a person's passkey in the console (approval approve)
`;

/** Parses options strictly; unknown flags and missing values are usage errors (exit 2). */
export function parseOptions(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
): { values: Record<string, string | boolean | (string | boolean)[] | undefined> } {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  migrate: async () => (await import('./serve.js')).migrateCommand,
  kek: async () => (await import('./kek.js')).kekCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  verify: async () => (await import('./verify.js')).verifyCommand,
  dev: async () => (await import('./dev.js')).devCommand,
  agent: async () => (await import('./agent.js')).agentCommand,
  seal: async () => (await import('./seal.js')).sealCommand,
  unseal: async () => (await import('./seal.js')).unsealCommand,
  login: async () => (await import('./admin-login.js')).loginCommand,
  status: async () => (await import('./admin-login.js')).statusCommand,
  key: async () => (await import('./admin-keys.js')).keyCommand,
  policy: async () => (await import('./admin-policies.js')).policyCommand,
  token: async () => (await import('./admin-tokens.js')).tokenCommand,
  approval: async () => (await import('./admin-approvals.js')).approvalCommand,
  audit: async () => (await import('./admin-audit.js')).auditCommand,
  tenant: async () => (await import('./admin-tenants.js')).tenantCommand,
  collateral: async () => (await import('./admin-collateral.js')).collateralCommand,
  evidence: async () => (await import('./admin-server.js')).evidenceCommand,
  health: async () => (await import('./admin-server.js')).healthCommand,
  metrics: async () => (await import('./admin-server.js')).metricsCommand,
  whoami: async () => (await import('./admin-server.js')).whoamiCommand,
  member: async () => (await import('./admin-platform.js')).memberCommand,
  import: async () => (await import('./admin-platform.js')).importCommand,
  platform: async () => (await import('./admin-platform.js')).platformCommand,
};

/** The usage of one command: the lines of USAGE that belong to it (plus the EVIDENCE options it takes). */
export function commandUsage(name: string): string {
  const lines = USAGE.split('\n');
  const own: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (!line.startsWith(`  ${name} `) && line !== `  ${name}`) continue;
    own.push(line);
    while ((lines[i + 1] ?? '').startsWith('      ')) own.push(lines[++i] ?? '');
  }
  const evidence = own.some((l) => l.includes('[EVIDENCE]')) ? lines.filter((l) => /^ {2}EVIDENCE:|^ {12}\S/.test(l)) : [];
  return `usage:\n${[...own, ...(evidence.length ? ['', ...evidence] : [])].join('\n')}\n`;
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Commands whose own --help says more than their USAGE lines (it starts with those lines' form). */
const DETAILED_HELP = new Set(['verify']);

function wantsHelp(args: readonly string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(`keyward ${readVersion()}\n`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    (name ? io.out : io.err)(USAGE);
    return name ? 0 : 2;
  }
  if (name === 'help') return main([rest[0] ?? '', '--help'], io);
  if (DETAILED_HELP.has(name) && wantsHelp(rest)) rest.splice(0, rest.length, '--help');
  const load = COMMANDS[name];
  if (!load) {
    io.err(`keyward: unknown command "${name}"\nrun 'keyward --help' for the list of commands\n`);
    return 2;
  }
  if (wantsHelp(rest) && !DETAILED_HELP.has(name)) {
    io.out(commandUsage(name));
    return 0;
  }
  try {
    return await (await load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`keyward ${name}: ${err.message}\nrun 'keyward ${name} --help' for usage\n`);
      return 2;
    }
    if (err instanceof KeywardError) {
      io.err(`keyward ${name}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    io.err(`keyward ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}
