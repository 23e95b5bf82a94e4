#!/usr/bin/env node
/**
 * The production build (ADR 0014): `src/main.ts` bundled by esbuild into `dist/bundle/main.js`, one ESM
 * file plus lazily loaded chunks for everything reached through a dynamic `import()` (GraphQL, the rule
 * compiler, function runtimes, PostgreSQL, NATS…). Packages with native addons or files of their own
 * (wasm) stay external and load from node_modules at run time. Type checking is `npm run typecheck`.
 *
 *   node scripts/build.mjs                 → dist/bundle/ (+ meta.json, esbuild's metafile)
 *   node scripts/build.mjs --outdir DIR    → DIR (the production-build test builds into a scratch directory)
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const outdirFlag = process.argv.indexOf('--outdir');
const outdir = outdirFlag === -1 ? join(root, 'dist/bundle') : resolve(process.argv[outdirFlag + 1] ?? '');

/** Loaded from node_modules at run time: native addons, and packages that locate their own files (wasm) next to their code. */
export const externalPackages = [
  'better-sqlite3',
  'pg-native',
  '@jitl/*',
  'quickjs-emscripten-core',
  'gpt-tokenizer',
  '@graphql-yoga/render-graphiql',
  // Fastify requires its schema compilers (Ajv, fast-json-stringify: ~350 KB) only for route schemas, which
  // this server does not use (src/http/server.ts): left out of the start-up chunk, never loaded.
  '@fastify/ajv-compiler',
  '@fastify/fast-json-stringify-compiler',
];

/**
 * zod re-exports its 64 locales (`z.locales`, ~290 KB) and esbuild keeps them all, because `z` is used
 * as a namespace object; this server uses only English, the default, so the index resolves to it alone.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'zod-english-only' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: root,
      loader: 'js',
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  external: externalPackages,
  // CommonJS dependencies call require() for Node's built-ins; in an ESM bundle it has to be made.
  banner: { js: "import { createRequire as __cbCreateRequire } from 'node:module';\nconst require = __cbCreateRequire(import.meta.url);" },
  // graphql has no `exports` map: pick its CommonJS build, as Node does for graphql-yoga (one graphql instance).
  mainFields: ['main', 'module'],
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  sourcemap: false,
  metafile: true,
  plugins: [zodEnglishOnly],
  logLevel: 'warning',
});
mkdirSync(outdir, { recursive: true });
// graphql-schema.ts reads the SDL next to the module (main.js or a chunk) that loads it.
copyFileSync(join(root, 'src/graphql/schema.graphql'), join(outdir, 'schema.graphql'));
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
