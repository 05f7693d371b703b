import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { buildClientSchema, printType } from 'graphql';
const schema = buildClientSchema(JSON.parse(gunzipSync(readFileSync('/work/shared/fixtures/admin-schema/admin_2026-10.json.gz'))).data);
for (const name of process.argv.slice(2)) {
  const [t, f] = name.split('.');
  const type = schema.getType(t);
  if (!f) { console.log(printType(type)); continue; }
  const field = type.getFields()[f];
  console.log(t+'.'+f, String(field.type), field.args.map(a=>a.name+':'+a.type).join(', '), field.deprecationReason ?? '');
}
