import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.js';

/** Reads a workflow definition file (YAML or JSON; JSON is YAML) as plain data; a syntax error names its line. */
export function readDefinitionFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}`);
  }
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new ConfigError(
      `${file} is not valid YAML/JSON:\n- ${document.errors.map((error) => error.message.split('\n')[0]).join('\n- ')}`,
    );
  }
  return document.toJS() as unknown;
}
