// TypeScript types of every wire message, generated from the checked-in JSON Schema
// (docs/schema/protocol.schema.json, itself generated from protocol/ by
// `python -m server.commands.schema write`) with json-schema-to-typescript.
//
//   node scripts/generate-types.mjs           write types/protocol.d.ts
//   node scripts/generate-types.mjs --check   exit 1 when the checked-in file is stale
//
// `make schema` runs both generators in order; the test suite runs --check.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const here = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const SCHEMA_PATH = here('../../../docs/schema/protocol.schema.json');
const TYPES_PATH = here('../types/protocol.d.ts');

const BANNER = `/* Generated from docs/schema/protocol.schema.json by clients/js/scripts/generate-types.mjs
 * (json-schema-to-typescript): do not edit; run \`make schema\`.
 *
 * Every wire message of the Tablium protocol, one msgpack map per websocket frame. Fields
 * marked optional have a default: a client may leave them out of a request; the server always
 * sends them. */`;

// json-schema-to-typescript reads draft-07 tuples (an "items" array); msgspec writes 2020-12
// ("prefixItems", then "items": false). Same meaning; rewrite the one into the other.
function toDraft07Tuples(node) {
  if (Array.isArray(node)) return node.map(toDraft07Tuples);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) out[key] = toDraft07Tuples(value);
  if (Array.isArray(out.prefixItems)) {
    out.items = out.prefixItems;
    out.additionalItems = false;
    delete out.prefixItems;
  }
  // A "$ref" beside a "default" makes the generator copy the referenced type under a new
  // name (LobbyFilter1); the default is in the schema, the type is the referenced one.
  if (typeof out.$ref === 'string') return { $ref: out.$ref };
  return out;
}

// The protocol's unions (Request, Reply, PushBody, ...) are anyOf definitions that no message
// refers to (msgspec flattens them), and the generator only emits what the root reaches. So
// the root handed to it is an index of the unions, each named by a title: every union becomes
// an exported type of its name, and `ProtocolUnions` maps the names to them.
function unionIndex(schema) {
  const unions = Object.keys(schema.$defs).filter((name) => Array.isArray(schema.$defs[name].anyOf));
  for (const name of unions) schema.$defs[name].title ??= name;
  return {
    $defs: schema.$defs,
    title: 'ProtocolUnions',
    description: 'The protocol\'s unions by name (protocol/messages.py, protocol/game.py).',
    type: 'object',
    properties: Object.fromEntries(unions.map((name) => [name, { $ref: `#/$defs/${name}` }])),
    required: unions,
    additionalProperties: false,
  };
}

export async function renderTypes() {
  const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8'));
  const body = await compile(unionIndex(toDraft07Tuples(schema)), 'ProtocolUnions', {
    bannerComment: '',
    additionalProperties: false, // the protocol refuses unknown fields
    maxItems: -1, // bounded arrays stay T[] (the bound is in a @maxItems comment)
    format: true,
    style: { singleQuote: false, printWidth: 100 },
  });
  const frame = `/** Any frame of either direction. */\nexport type TabliumFrame = Request | ServerMessage;\n`;
  return `${BANNER}\n\n${frame}${body}`;
}

async function main() {
  const rendered = await renderTypes();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = await readFile(TYPES_PATH, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current !== rendered) {
      console.error('clients/js/types/protocol.d.ts is stale: run `make schema`');
      process.exit(1);
    }
    return;
  }
  await writeFile(TYPES_PATH, rendered);
  console.log('wrote clients/js/types/protocol.d.ts');
}

await main();
