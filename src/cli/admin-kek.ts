// `keyward kek status|rotate --remote`: the root KEKs over the admin API (GET /v1/kek, POST /v1/kek/rotate)
// of a running keyward, where `keyward kek` without --remote opens the database itself (docs/kek.md).
import { openAdmin, output, parseCommand, printTable } from './admin-http.js';
import type { CliIo } from './main.js';

interface KekList {
  items: { id: string; uri: string; state: string; createdAt: string; retiredAt: string | null; versions: number }[];
  targets: { name: string; uri: string }[];
}

export async function remoteKekCommand(sub: 'status' | 'rotate', args: string[], io: CliIo): Promise<number> {
  const admin = openAdmin();
  if (sub === 'status') {
    const { values } = parseCommand(args, {}, { min: 0, max: 0, names: '' });
    return output(io, values, await admin.request('GET', '/v1/kek'), (k: KekList) => {
      printTable(io, ['ID', 'STATE', 'VERSIONS', 'CREATED', 'URI'], k.items.map((i) => [i.id, i.state, i.versions, i.createdAt, i.uri]));
      if (k.targets.length > 0) io.out(`rotation targets: ${k.targets.map((t) => `${t.name} (${t.uri})`).join(', ')}\n`);
    });
  }
  const { values } = parseCommand(args, { target: { type: 'string' } }, { min: 0, max: 0, names: '' });
  const body = typeof values['target'] === 'string' ? { target: values['target'] } : {};
  return output(io, values, await admin.request('POST', '/v1/kek/rotate', body), (r: { from: string | null; to: string; resealed: number; resumed: boolean }) =>
    io.out(r.resumed ? `resumed an interrupted rotation: ${r.resealed} records resealed under ${r.to}\n` : `rotated ${r.from ?? '(none)'} → ${r.to}: ${r.resealed} records resealed\n`),
  );
}
