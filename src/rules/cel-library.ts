import { createRequire } from 'node:module';
import type * as Cel from '@bufbuild/cel';
import type * as Re2 from '@bufbuild/re2';

/**
 * `@bufbuild/cel` and `@bufbuild/re2`, loaded on the first rule compiled or value converted rather than
 * when the process starts: with protobuf under them they cost ~75 ms of CPU to load, and a gateway with no
 * rules, guards or cost rules never needs them (docs/adr/0014-bundled-build-and-lazy-loading.md). Every
 * use goes through these two functions, so values made by the library are always checked by the same
 * copy of it (the packages' CommonJS builds, loaded by Node from node_modules; the bundle leaves them out).
 */
const require = createRequire(import.meta.url);
let cel: typeof Cel | undefined;
let re2: typeof Re2 | undefined;

/** The CEL library. */
export function celLibrary(): typeof Cel {
  return (cel ??= require('@bufbuild/cel') as typeof Cel);
}

/** The RE2 engine. */
export function re2Library(): typeof Re2 {
  return (re2 ??= require('@bufbuild/re2') as typeof Re2);
}
