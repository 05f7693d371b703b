import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { buildClientSchema } from 'graphql';
const schema = buildClientSchema(JSON.parse(gunzipSync(readFileSync('/work/shared/fixtures/admin-schema/admin_2026-10.json.gz'))).data);
for (const t of process.argv.slice(2)) {
  const type = schema.getType(t);
  console.log('## ' + t);
  for (const f of Object.values(type.getFields())) console.log('  ' + f.name + ': ' + String(f.type) + (f.args.length ? ' (' + f.args.map(a => a.name).join(',') + ')' : '') + (f.deprecationReason ? '  DEPRECATED' : ''));
}
