import type { StreamPart } from '../../core/stream-part.js';
import { OpenAIChunkDecoder } from '../../providers/shared/openai-chunk-parts.js';

/**
 * Expands the `raw-chunks` parts of an OpenAI-dialect upstream (forwarded as is to OpenAI clients) into
 * the structured parts the Anthropic encoder needs, with the same decoder the other OpenAI-compatible
 * servers go through; other parts pass untouched. `provider` names the upstream in error messages (it is
 * known only once the stream found its deployment).
 */
export async function* decodeRawChunks(stream: AsyncIterable<StreamPart>, provider: () => string): AsyncGenerator<StreamPart> {
  let decoder: OpenAIChunkDecoder | undefined;
  for await (const part of stream) {
    if (part.type !== 'raw-chunks') {
      yield part;
      continue;
    }
    decoder ??= new OpenAIChunkDecoder(provider());
    for (const json of part.chunks) yield* decoder.decode(json);
  }
}
