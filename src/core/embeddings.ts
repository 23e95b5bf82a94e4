/** OpenAI's embeddings shapes, the gateway's vocabulary for `POST /v1/embeddings`. */

export interface EmbeddingRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [field: string]: unknown;
}

export interface EmbeddingResponse {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** The inputs as a list of strings; token-array inputs are refused by adapters that cannot take them. */
export function embeddingInputs(input: EmbeddingRequest['input']): (string | number[])[] {
  if (typeof input === 'string') return [input];
  if (input.length === 0) return [];
  if (typeof input[0] === 'number') return [input as number[]];
  return input as (string | number[])[];
}

/**
 * Answers in the encoding the client asked for: with `encoding_format: "base64"` (the openai SDK's
 * default) each vector becomes its little-endian float32 bytes in base64, as OpenAI sends them.
 * Vectors already encoded (an OpenAI-dialect upstream honoured the field itself) stay as they are.
 */
export function encodeEmbeddings(response: EmbeddingResponse, format: EmbeddingRequest['encoding_format']): EmbeddingResponse {
  if (format !== 'base64' || response.data.every((entry) => typeof entry.embedding === 'string')) return response;
  return {
    ...response,
    data: response.data.map((entry) =>
      typeof entry.embedding === 'string'
        ? entry
        : { ...entry, embedding: Buffer.from(new Float32Array(entry.embedding).buffer).toString('base64') },
    ),
  };
}
